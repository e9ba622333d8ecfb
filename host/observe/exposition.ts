// Samples of a Prometheus text exposition (Envoy's /stats/prometheus): name, labels, value.
export interface Sample { name: string; labels: Record<string, string>; value: number }

/** Every sample line, or only those of metric names starting with `prefix`. */
export function parseSamples(text: string, prefix = ''): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || !line.startsWith(prefix)) continue;
    const m = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Prometheus's histogram_quantile over cumulative buckets [le, count] (le may be Infinity); null without data. */
export function histogramQuantile(q: number, buckets: [number, number][]): number | null {
  const b = [...buckets].sort((x, y) => x[0] - y[0]);
  if (b.length < 2 || b[b.length - 1][0] !== Infinity) return null;
  const total = b[b.length - 1][1];
  if (!(total > 0)) return null;
  const rank = q * total;
  let i = b.findIndex(([, c]) => c >= rank);
  if (i === b.length - 1) return b[b.length - 2][0];
  if (i < 0) i = b.length - 1;
  const [upper, count] = b[i];
  const [lower, below] = i === 0 ? [0, 0] : b[i - 1];
  if (i === 0 && upper <= 0) return upper;
  return count === below ? upper : lower + (upper - lower) * (rank - below) / (count - below);
}
