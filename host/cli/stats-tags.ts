// The stats_tags rules shipped in envoy/stats-tags.yaml (the telemetry filter's label encoding).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { JsonObject } from './istio.ts';
import { packageRoot } from './paths.ts';

export function sidecarStatsTags(): JsonObject[] | undefined {
  const path = join(packageRoot(), 'envoy/stats-tags.yaml');
  if (!existsSync(path)) return undefined;
  const tags = (parse(readFileSync(path, 'utf8')) as JsonObject | null)?.stats_tags;
  return Array.isArray(tags) && tags.length ? (tags as JsonObject[]) : undefined;
}
