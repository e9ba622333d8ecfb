// A strict check of a custom resource against its CRD, as the Kubernetes API server does on create with
// strict field validation (kubectl apply --validate=strict): the version's openAPIV3Schema (types, enum,
// pattern, lengths, bounds, required, nullable, maps, list-map keys), unknown fields rejected except under
// x-kubernetes-preserve-unknown-fields, the root's apiVersion/kind/metadata. CEL rules
// (x-kubernetes-validations) are evaluated for the rule texts listed in CEL below; any other rule fails the
// check, so a CRD update with a new rule is noticed rather than skipped.
type Schema = Record<string, any>;

const CEL: Record<string, (self: any) => boolean> = {
  '!self.contains("*")': (s: string) => !s.includes('*'),
  'self.all(key, !key.contains("*"))': (s: object) => Object.keys(s).every((k) => !k.includes('*')),
  'self.all(key, key.size() != 0)': (s: object) => Object.keys(s).every((k) => k.length !== 0),
  'self.size() == 0': (s: string) => s.length === 0,
  '(has(self.valueFrom) ? self.valueFrom : "") != "HOST" || !has(self.value)': (s) => (s.valueFrom ?? '') !== 'HOST' || !('value' in s),
  '(has(self.selector) ? 1 : 0) + (has(self.targetRef) ? 1 : 0) + (has(self.targetRefs) ? 1 : 0) <= 1': (s) =>
    ['selector', 'targetRef', 'targetRefs'].filter((k) => k in s).length <= 1,
  // The url rule: the scheme (Go's url parse; no scheme reads as http://) must be one of these.
  'isURL(self) ? (url(self).getScheme() in ["", "http", "https", "oci", "file"]) : (isURL("http://" + self) &&\nurl("http://" + self).getScheme() in ["", "http", "https", "oci", "file"])':
    (s: string) => {
      const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(s);
      return m === null || ['http', 'https', 'oci', 'file'].includes(m[1].toLowerCase());
    },
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function check(v: unknown, s: Schema, path: string, errors: string[]): void {
  if (v === null) {
    if (!s.nullable) errors.push(`${path}: null`);
    return;
  }
  if (s.anyOf) {
    const ok = (s.anyOf as Schema[]).some((alt) => {
      const e: string[] = [];
      check(v, { ...alt, ...(alt.type ? {} : { type: s.type }) }, path, e);
      return e.length === 0;
    });
    if (!ok) errors.push(`${path}: matches none of anyOf`);
  }
  const t = typeOf(v);
  if (s.type && !(s.type === t || (s.type === 'number' && t === 'integer'))) {
    errors.push(`${path}: ${t}, schema wants ${s.type}`);
    return;
  }
  if (s.enum && !s.enum.includes(v)) errors.push(`${path}: ${JSON.stringify(v)} not in enum ${s.enum.join(', ')}`);
  if (typeof v === 'string') {
    const len = [...v].length;
    if (s.minLength !== undefined && len < s.minLength) errors.push(`${path}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && len > s.maxLength) errors.push(`${path}: longer than ${s.maxLength}`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(v)) errors.push(`${path}: does not match ${s.pattern}`);
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) errors.push(`${path}: below ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) errors.push(`${path}: above ${s.maximum}`);
    if (s.format === 'int32' && (v < -(2 ** 31) || v >= 2 ** 31)) errors.push(`${path}: not an int32`);
  }
  if (Array.isArray(v)) {
    if (s.maxItems !== undefined && v.length > s.maxItems) errors.push(`${path}: more than ${s.maxItems} items`);
    v.forEach((item, i) => s.items && check(item, s.items, `${path}[${i}]`, errors));
    if (s['x-kubernetes-list-type'] === 'map') {
      const keys = v.map((item) => JSON.stringify((s['x-kubernetes-list-map-keys'] as string[]).map((k) => item?.[k])));
      if (new Set(keys).size !== keys.length) errors.push(`${path}: duplicate list-map keys`);
    }
  }
  if (t === 'object') {
    const o = v as Record<string, unknown>;
    if (s.maxProperties !== undefined && Object.keys(o).length > s.maxProperties)
      errors.push(`${path}: more than ${s.maxProperties} properties`);
    for (const r of (s.required as string[] | undefined) ?? []) if (!(r in o)) errors.push(`${path}.${r}: required`);
    for (const [k, val] of Object.entries(o)) {
      if (s.properties?.[k]) check(val, s.properties[k], `${path}.${k}`, errors);
      else if (s.additionalProperties) check(val, s.additionalProperties, `${path}.${k}`, errors);
      else if (!s['x-kubernetes-preserve-unknown-fields']) errors.push(`${path}.${k}: unknown field`);
    }
  }
  for (const { rule, message } of (s['x-kubernetes-validations'] as { rule: string; message: string }[] | undefined) ?? []) {
    const fn = CEL[rule.trim()];
    if (!fn) errors.push(`${path}: CEL rule not supported by this check: ${rule}`);
    else if (!fn(v)) errors.push(`${path}: ${message}`);
  }
}

/** The errors of `object` against `crd` (empty: the API server would accept it). */
export function crdErrors(crd: Schema, object: Record<string, any>): string[] {
  const errors: string[] = [];
  const version = String(object.apiVersion ?? '').split('/');
  const v = (crd.spec.versions as Schema[]).find((x) => version[0] === crd.spec.group && x.name === version[1] && x.served);
  if (!v) return [`apiVersion: ${object.apiVersion} is not served by ${crd.metadata.name}`];
  if (object.kind !== crd.spec.names.kind) errors.push(`kind: ${object.kind}, CRD wants ${crd.spec.names.kind}`);
  const meta = object.metadata ?? {};
  if (typeof meta.name !== 'string' || meta.name.length > 253 || !DNS_SUBDOMAIN.test(meta.name))
    errors.push(`metadata.name: ${JSON.stringify(meta.name)} is not a DNS-1123 subdomain`);
  if (crd.spec.scope === 'Namespaced' && meta.namespace !== undefined && !(meta.namespace.length <= 63 && DNS_LABEL.test(meta.namespace)))
    errors.push(`metadata.namespace: ${JSON.stringify(meta.namespace)} is not a DNS-1123 label`);
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = object;
  check(rest, v.schema.openAPIV3Schema, '', errors);
  return errors;
}
