#!/usr/bin/env node
// `pnpm pack:sdk <folder>`: build the SDKs and write one tarball per package
// into <folder>, for `npm install <folder>/*.tgz` in a project outside this
// repository.
//
// The packages are @errand/worker and @errand/client and every workspace
// package they depend on, found from package.json `dependencies` transitively
// (a new one, such as @errand/mcp, is picked up as soon as one of them depends
// on it). `pnpm pack` rewrites their `workspace:*` ranges to versions;
// third-party dependencies stay ranges for the registry.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { workspacePackages } from './check-deps.mjs';
import { bootstrap, ROOT } from './bootstrap.mjs';

export const SDK_ROOTS = ['@errand/worker', '@errand/client'];

/** The workspace packages `roots` need at run time, dependencies first. */
export function sdkPackages(roots = SDK_ROOTS, root = ROOT) {
  const byName = new Map(workspacePackages(root).map((p) => [p.name, p]));
  const order = [];
  const seen = new Set();
  const visit = (name, from) => {
    if (seen.has(name)) return;
    const p = byName.get(name);
    if (!p) throw new Error(`${name} (needed by ${from}) is not a workspace package`);
    seen.add(name);
    for (const dep of Object.keys(p.pkg.dependencies ?? {})) if (byName.has(dep)) visit(dep, name);
    order.push(p);
  };
  for (const r of roots) visit(r, 'pack:sdk');
  return order;
}

/** Why a package cannot be installed from its tarball (empty: it can). */
export function packProblems(p) {
  const problems = [];
  const pkg = p.pkg;
  if (pkg.private) problems.push('is private');
  if (!pkg.version) problems.push('has no version');
  if (!Array.isArray(pkg.files) || !pkg.files.includes('dist')) problems.push('has no `files: ["dist"]`');
  // what the tarball's package.json says: pnpm pack puts publishConfig.exports in place of exports
  const main = (pkg.publishConfig?.exports ?? pkg.exports)?.['.'];
  if (typeof main !== 'object' || !String(main.default ?? '').startsWith('./dist/') || !String(main.types ?? '').startsWith('./dist/')) {
    problems.push('its published `exports["."]` has no `types` and `default` in ./dist/ (see docs/INTERNALS.md, "Exports and builds")');
  } else if ('development' in main) {
    problems.push('its published `exports["."]` keeps the `development` condition (src/ is not in the tarball): set `publishConfig.exports`');
  }
  return problems;
}

function run(cmd, args, cwd, quiet = false) {
  // pnpm pack lists every file: shown only when it fails
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', quiet ? 'pipe' : 'inherit', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) {
    if (quiet && r.stdout) process.stderr.write(r.stdout);
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit code ${r.status}`})`);
  }
}

function main() {
  const arg = process.argv.slice(2).find((a) => a !== '--');
  if (!arg) {
    process.stderr.write('usage: pnpm pack:sdk <folder>\n');
    return 2;
  }
  // pnpm runs scripts from the root: a relative folder is the caller's
  const out = resolve(process.env.INIT_CWD ?? process.cwd(), arg);
  const pkgs = sdkPackages();
  const bad = pkgs.flatMap((p) => packProblems(p).map((why) => `${p.name} ${why}`));
  if (bad.length) {
    process.stderr.write(`pack:sdk: cannot pack:\n  ${bad.join('\n  ')}\n`);
    return 1;
  }
  // pnpm and the dependencies as `npm start` gets them (packing needs no nats-server)
  process.env.ERRAND_SKIP_NATS_INSTALL ??= '1';
  const [cmd, ...pre] = bootstrap().pnpm;
  // build only what is packed: each package after the ones it depends on
  run(cmd, [...pre, '-r', ...SDK_ROOTS.flatMap((n) => ['--filter', `${n}...`]), 'run', 'build'], ROOT);
  mkdirSync(out, { recursive: true });
  for (const p of pkgs) run(cmd, [...pre, 'pack', '--pack-destination', out], p.dir, true);
  const tarballs = readdirSync(out).filter((f) => f.endsWith('.tgz'));
  process.stdout.write(`pack:sdk: ${pkgs.length} packages (${pkgs.map((p) => p.name).join(', ')}) in ${out}: ${tarballs.join(', ')}\n`);
  process.stdout.write(`install them in a project with: npm install ${join(out, '*.tgz')}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(ROOT, 'scripts', 'pack-sdk.mjs')) {
  try {
    process.exitCode = main();
  } catch (err) {
    process.stderr.write(`pack:sdk: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
