// Headless Chromium (Debian `chromium`) for the dashboard tests: the DOM after the page's scripts
// ran (--dump-dom; --virtual-time-budget lets its fetches and timers run), or a screenshot.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/fixtures.ts';
import { runChild, type ChildResult } from '../child.ts';

export function findChromium(): string | null {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : null;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p;
  return null;
}

async function run(args: string[]): Promise<ChildResult> {
  const bin = findChromium();
  if (!bin) throw new Error('chromium is required: apt-get install chromium (.ci/run does), or CHROMIUM=path');
  const profile = mkdtempSync(join(repoRoot, '.tmp', 'chromium-'));
  try {
    return await runChild(
      bin,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { timeoutMs: 90_000 },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM after `budgetMs` of virtual time (its polls and fetches complete within it), scripts left out. */
export async function dumpDom(url: string, budgetMs = 5000): Promise<string> {
  const r = await run([`--virtual-time-budget=${budgetMs}`, '--dump-dom', url]);
  if (r.code !== 0 || !r.stdout.includes('</html>'))
    throw new Error(`chromium --dump-dom ${url} failed (${r.code}):\n${r.stderr.slice(-2000)}`);
  return r.stdout.replace(/<script>[\s\S]*?<\/script>/g, '');
}

export async function screenshot(url: string, file: string, size = '1200,900', budgetMs = 5000): Promise<void> {
  const r = await run([`--virtual-time-budget=${budgetMs}`, `--window-size=${size}`, '--hide-scrollbars', `--screenshot=${file}`, url]);
  if (r.code !== 0 || !existsSync(file)) throw new Error(`chromium --screenshot ${url} failed (${r.code}):\n${r.stderr.slice(-2000)}`);
}

/** The attributes of every element whose opening tag matches `tag` and class list includes `cls`. */
export function elements(dom: string, tag: string, cls: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const m of dom.matchAll(new RegExp(`<${tag}\\s([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([\w-]+)="([^"]*)"/g))
      attrs[a[1]] = a[2]
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    if ((attrs.class ?? '').split(/\s+/).includes(cls)) out.push(attrs);
  }
  return out;
}
