import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { say } from './stats.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** The folders of a workspace package and of every workspace package it depends on, itself first. */
function workspaceDirs(dir: string, seen = new Set<string>()): string[] {
  if (seen.has(dir)) return [];
  seen.add(dir);
  const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const out = [dir];
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    if (!range.startsWith('workspace:') || !name.startsWith('@errand/')) continue;
    out.push(...workspaceDirs(join('packages', name.slice('@errand/'.length)), seen));
  }
  return out;
}

/** The newest modification time (ms) of the files under `dir`, 0 when there is none. */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Build a service and the workspace packages it depends on (`pnpm --filter
 * <service>... run build`) unless every one's dist/ is newer than its src/ and
 * package.json: a fresh clone has no dist/ at all, and a stale one would
 * measure yesterday's code.
 */
export function ensureBuilt(service: string): void {
  const dirs = workspaceDirs(join('services', service));
  const stale = dirs.filter((d) => {
    const built = newest(join(ROOT, d, 'dist'));
    return built === 0 || built < Math.max(newest(join(ROOT, d, 'src')), statSync(join(ROOT, d, 'package.json')).mtimeMs);
  });
  if (stale.length === 0) return;
  say(`building ${service} and what it uses from its sources (${stale.join(', ')} not built or older than their sources)`);
  const r = spawnSync('pnpm', ['--filter', `@errand/${service}...`, 'run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] }); // stdout is the bench's table
  if (r.status !== 0) throw new Error(`pnpm build of ${service} failed (${r.error?.message ?? `exit code ${r.status}`})`);
}
