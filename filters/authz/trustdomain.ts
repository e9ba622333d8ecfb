// MeshConfig trustDomain / trustDomainAliases, applied to AuthorizationPolicy principals the way
// Istio's pilot does (pilot/pkg/security/trustdomain, ReplaceTrustDomainAliases): a principal
// `<td>/ns/<ns>/sa/<sa>` whose trust domain is the mesh's, an alias, or `cluster.local` (which always
// means "the local trust domain") matches in every one of them; `*`, patterns without five `/` parts
// and principals of other trust domains are kept as written. Pure: no host calls.

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** The mesh's trust domain first, then its aliases (pilot's Bundle). */
export class TrustDomains {
  constructor(public domains: string[] = [DEFAULT_TRUST_DOMAIN]) {}

  /** Each principal replaced by one per trust domain, in pilot's order, no duplicates per principal. */
  expand(principals: string[]): string[] {
    const out = new Array<string>();
    for (let i = 0; i < principals.length; i++) {
      const p = principals[i];
      const parts = p.split('/');
      // Not `<td>/ns/<ns>/sa/<sa>`, or a `*` trust domain: the trust domain is not enforced.
      if (parts.length != 5 || parts[0] == '*') {
        out.push(p);
        continue;
      }
      const td = parts[0];
      if (!this.known(td) && td != DEFAULT_TRUST_DOMAIN) {
        out.push(p);
        continue;
      }
      const rest = p.substring(td.length);
      const mine = new Array<string>();
      for (let j = 0; j < this.domains.length; j++) {
        const d = this.domains[j];
        // A `*x` trust domain that covers d stays as written (once).
        const q = suffixMatch(d, td) ? p : d + rest;
        if (!mine.includes(q)) mine.push(q);
      }
      for (let j = 0; j < mine.length; j++) out.push(mine[j]);
    }
    return out;
  }

  /** pilot's stringMatch: either side may be a `*`, `x*` or `*x` pattern. */
  private known(td: string): bool {
    for (let i = 0; i < this.domains.length; i++) {
      const d = this.domains[i];
      if (td == d || d == '*' || prefixMatch(td, d) || prefixMatch(d, td) || suffixMatch(td, d) || suffixMatch(d, td)) return true;
    }
    return false;
  }
}

function prefixMatch(a: string, pattern: string): bool {
  return pattern.endsWith('*') && a.startsWith(pattern.substring(0, pattern.length - 1));
}

function suffixMatch(a: string, pattern: string): bool {
  return pattern.startsWith('*') && a.endsWith(pattern.substring(1));
}

/** Why `td` is not a trust domain (SPIFFE: lowercase letters, digits, '.', '-', '_'); null when it is. */
export function trustDomainError(td: string): string | null {
  if (td.length == 0) return 'empty trust domain';
  if (td.length > 255) return 'trust domain longer than 255 characters';
  for (let i = 0; i < td.length; i++) {
    const ch = td.charCodeAt(i);
    const ok = (ch >= 97 && ch <= 122) || (ch >= 48 && ch <= 57) || ch == 46 || ch == 45 || ch == 95;
    if (!ok) return '"' + td + '" is not a trust domain (lowercase letters, digits, ".", "-", "_")';
  }
  return null;
}
