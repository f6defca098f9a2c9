#!/usr/bin/env node
// The architecture, as a check that fails (`pnpm lint` runs it):
//  - a service never depends on, nor imports, another service (by name or by a
//    relative path into it); services meet only on JetStream subjects;
//  - a package under packages/ never imports a service;
//  - services/<s>/src/domain/** is pure: no node:* (or bare built-ins),
//    @nats-io/*, fastify;
//  - no deep imports of a workspace package (`@errand/x/src/...`);
//  - a file importing a workspace package declares it in its package.json;
//  - no circular imports between workspace packages;
//  - every setting goes through packages/config: no `process.env` in
//    packages/*/src or services/*/src outside packages/config (tests and the
//    test helpers of packages/testing read their own knobs);
//  - a package's entry (src/index.ts) lists its exports by name: no
//    `export *` (nor `export type *`);
//  - NATS errors are matched by class and code (packages/nats/src/errors.ts):
//    no regular expression tested against an error's `.message` in a file
//    that talks to NATS.
// Circular runtime imports between files inside one package are printed as
// warnings (type-only imports are ignored).
// Plain Node, no dependencies: imports are found with regular expressions
// over comment-stripped source, which covers static, re-export, side-effect
// and dynamic imports with literal specifiers.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC_EXT = /\.(ts|mts|cts|tsx|js|mjs|cjs)$/;
const BUILTINS = new Set(builtinModules);
const DOMAIN_FORBIDDEN = [/^node:/, /^@nats-io\//, /^fastify(\/|$)/, /^@fastify\//];
// where the environment may be read: the config package, and test knobs
const ENV_ALLOWED = [/^packages\/config\//, /^packages\/testing\//, /\.test\.ts$/];
// files other engineers rewrite this round: reported as warnings until their branches land
const PENDING = new Map([]);
const TALKS_NATS = /^@nats-io\/|^@errand\/nats$/;
// a regex literal (or new RegExp) tested against something's `.message`, or `.message.match(/.../)`
const MESSAGE_REGEX = [/\/(?![*/])(?:\\.|\[(?:\\.|[^\]\n])*\]|[^/\n\\])+\/[a-z]*\.test\(.*\.message\b/, /RegExp\(.*\)\.test\(.*\.message\b/, /\.message\??\.(match|search)\(/];

/** Every workspace package: {name, dir, kind: 'service'|'package'|'other', pkg}. */
export function workspacePackages(root = ROOT) {
  const out = [];
  const add = (dir, kind) => {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) return;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    out.push({ name: pkg.name, dir, kind, pkg });
  };
  for (const [folder, kind] of [['packages', 'package'], ['services', 'service']]) {
    const base = join(root, folder);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base).sort()) add(join(base, d), kind);
  }
  add(join(root, 'test'), 'other');
  add(join(root, 'bench'), 'other');
  return out;
}

function sourceFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (SRC_EXT.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function stripComments(src) {
  // keeps strings intact well enough for import specifiers; removes // and /* */ comments
  // block comments keep their line breaks, so line numbers stay right
  return src.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
}

/** Import specifiers of one source text: [{spec, typeOnly, line}]. */
export function findImports(src) {
  const text = stripComments(src);
  const found = [];
  const lineOf = (i) => text.slice(0, i).split('\n').length;
  const fromRe = /(^|[;\n}])\s*(import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(fromRe)) {
    const typeOnly = Boolean(m[3]) || (m[2] === 'import' && /^\{\s*(type\s+[\w$]+(\s+as\s+[\w$]+)?\s*,?\s*)+\}$/.test(m[4].trim()));
    found.push({ spec: m[5], typeOnly, line: lineOf(m.index + m[0].search(/\b(import|export)\b/)) });
  }
  for (const m of text.matchAll(/(^|[;\n}])\s*import\s*['"]([^'"]+)['"]/g)) {
    found.push({ spec: m[2], typeOnly: false, line: lineOf(m.index + m[0].search(/\bimport\b/)) });
  }
  for (const m of text.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push({ spec: m[1], typeOnly: false, line: lineOf(m.index) });
  }
  return found;
}

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

function declared(pkg) {
  return new Set(
    ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((k) => Object.keys(pkg[k] ?? {})),
  );
}

/** Find a cycle in a graph (Map<node, Iterable<node>>); returns the node list or undefined. */
export function findCycles(graph) {
  const cycles = [];
  const state = new Map(); // 1 = on the stack, 2 = done
  const stack = [];
  const visit = (n) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (!graph.has(m)) continue;
      if (state.get(m) === 1) cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

function resolveRelative(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec);
  for (const cand of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(cand) && statSync(cand).isFile()) return cand;
  }
  return undefined;
}

/**
 * The house rules a type checker cannot see, for one source file under
 * packages/<p>/src or services/<s>/src: returns one message per finding.
 */
export function conventionFindings(where, src, imports = findImports(src)) {
  const out = [];
  const lines = stripComments(src).split('\n');
  if (!ENV_ALLOWED.some((re) => re.test(where))) {
    lines.forEach((l, i) => {
      if (/\bprocess\.env\b/.test(l)) out.push(`${where}:${i + 1}: reads process.env; every setting goes through @errand/config (its zod schema)`);
    });
  }
  if (/^(packages|services)\/[^/]+\/src\/index\.ts$/.test(where)) {
    lines.forEach((l, i) => {
      if (/^\s*export\s+(type\s+)?\*/.test(l)) out.push(`${where}:${i + 1}: \`export *\` in a package entry; list the exports by name`);
    });
  }
  if (!where.endsWith('.test.ts') && imports.some((i) => TALKS_NATS.test(i.spec))) {
    lines.forEach((l, i) => {
      if (MESSAGE_REGEX.some((re) => re.test(l))) {
        out.push(`${where}:${i + 1}: matches an error's message with a regular expression; use the typed checks of @errand/nats (isWrongLastSequence, isStreamNotFound, ...)`);
      }
    });
  }
  return out;
}

export function check(root = ROOT) {
  const errors = [];
  const warnings = [];
  const pkgs = workspacePackages(root);
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const services = pkgs.filter((p) => p.kind === 'service');
  const serviceNames = new Set(services.map((p) => p.name));
  const rel = (f) => relative(root, f).split(sep).join('/');
  const pkgGraph = new Map(pkgs.map((p) => [p.name, new Set()]));

  for (const p of pkgs) {
    const deps = declared(p.pkg);
    for (const d of deps) {
      if (serviceNames.has(d) && d !== p.name && p.kind !== 'other') {
        errors.push(`${rel(join(p.dir, 'package.json'))}: depends on the service ${d}; ${p.kind === 'service' ? 'services never depend on each other' : 'packages never depend on a service'}`);
      }
      if (byName.has(d) && d !== p.name) pkgGraph.get(p.name).add(d);
    }

    const fileGraph = new Map();
    for (const file of sourceFiles(p.dir)) {
      const where = rel(file);
      const inDomain = p.kind === 'service' && where.includes('/src/domain/');
      const edges = new Set();
      fileGraph.set(file, edges);
      const src = readFileSync(file, 'utf8');
      const imports = findImports(src);
      if (p.kind !== 'other' && where.includes('/src/')) {
        const report = (msg) => (PENDING.has(where) ? warnings : errors).push(`${msg}${PENDING.has(where) ? ` (pending: ${PENDING.get(where)})` : ''}`);
        for (const f of conventionFindings(where, src, imports)) report(f);
      }
      for (const { spec, typeOnly, line } of imports) {
        const at = `${where}:${line}`;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          const targetRel = rel(target);
          const intoService = /^services\/([^/]+)(\/|$)/.exec(targetRel);
          if (intoService && !target.startsWith(p.dir + sep) && p.kind !== 'other') {
            errors.push(`${at}: imports '${spec}', a path into services/${intoService[1]}; ${p.kind === 'service' ? 'services never import each other' : 'packages never import a service'}`);
          } else if (!target.startsWith(p.dir + sep) && p.kind !== 'other') {
            errors.push(`${at}: imports '${spec}' outside its own package; import the package by name`);
          }
          const resolved = resolveRelative(file, spec);
          if (resolved && !typeOnly) edges.add(resolved);
          continue;
        }
        const name = packageName(spec);
        if (name.startsWith('@errand/')) {
          if (spec !== name) errors.push(`${at}: deep import '${spec}'; import '${name}' (its one entry) instead`);
          if (serviceNames.has(name) && name !== p.name && p.kind !== 'other') {
            errors.push(`${at}: imports the service ${name}; ${p.kind === 'service' ? 'services never import each other' : 'packages never import a service'}`);
          }
          if (byName.has(name) && name !== p.name) {
            if (!declared(p.pkg).has(name)) errors.push(`${at}: imports ${name}, which ${rel(join(p.dir, 'package.json'))} does not declare`);
            if (!typeOnly) pkgGraph.get(p.name).add(name);
          }
        }
        if (inDomain && (DOMAIN_FORBIDDEN.some((re) => re.test(spec)) || BUILTINS.has(name))) {
          errors.push(`${at}: domain/ is pure but imports '${spec}' (no node:*, @nats-io/*, fastify in domain code)`);
        }
      }
    }
    for (const c of findCycles(fileGraph)) {
      warnings.push(`circular import inside ${p.name}: ${c.map(rel).join(' -> ')}`);
    }
  }
  for (const c of findCycles(pkgGraph)) errors.push(`circular dependency between workspace packages: ${c.join(' -> ')}`);
  return { errors, warnings, packages: pkgs.length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { errors, warnings, packages } = check();
  for (const w of warnings) process.stderr.write(`check-deps: warning: ${w}\n`);
  if (errors.length) {
    for (const e of errors) process.stderr.write(`check-deps: ${e}\n`);
    process.stderr.write(`check-deps: ${errors.length} problem${errors.length === 1 ? '' : 's'} (see the rules at the top of scripts/check-deps.mjs)\n`);
    process.exit(1);
  }
  process.stdout.write(`check-deps: ${packages} workspace packages, no forbidden or circular imports\n`);
}
