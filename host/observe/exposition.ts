// Samples of a Prometheus text exposition (Envoy's /stats/prometheus) for the dashboard, through the one
// exposition parser (host/envoy/prometheus.ts), and Prometheus's histogram_quantile.
import { parseExposition, type Sample } from '../envoy/prometheus.ts';
export type { Sample };

/** Every sample, or only those of metric names starting with `prefix`. */
export function parseSamples(text: string, prefix = ''): Sample[] {
  return parseExposition(text).samples.filter((s) => s.name.startsWith(prefix));
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
  return count === below ? upper : lower + ((upper - lower) * (rank - below)) / (count - below);
}
