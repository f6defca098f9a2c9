import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** the repository's root, with a trailing slash: file names are shown relative to it */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time per function of a V8 .cpuprofile (optionally only the last
 * `lastSeconds`), and per package, to see what dominates a service.
 */
export function topSelf(file: string, opts: { top?: number; lastSeconds?: number } = {}): { total: number; functions: [string, number][]; packages: [string, number][] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let t = p.startTime;
  const from = opts.lastSeconds ? p.endTime - opts.lastSeconds * 1e6 : 0;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < from) continue;
    const n = byId.get(p.samples[i]!)!;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const short = url.replace(/.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, '').replace(ROOT, '');
    const name = `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + dt);
    const pkg = n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)' || n.callFrame.functionName === '(garbage collector)'
      ? n.callFrame.functionName
      : /^(@[^/]+\/[^/]+|[^/]+)/.exec(short)?.[1] ?? (url.startsWith('node:') ? 'node' : short || '(native)');
    const pk = short.startsWith('packages/') || short.startsWith('services/') ? short.split('/').slice(0, 2).join('/') : pkg;
    pkgs.set(pk, (pkgs.get(pk) ?? 0) + dt);
    total += dt;
  }
  const top = opts.top ?? 15;
  const sort = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { total, functions: sort(self), packages: sort(pkgs) };
}

if (process.argv[1]?.endsWith('profile.ts')) {
  for (const f of process.argv.slice(2)) {
    const r = topSelf(f, { top: 25, ...(process.env.LAST ? { lastSeconds: Number(process.env.LAST) } : {}) });
    console.log(`\n== ${f}  (${Math.round(r.total)} ms sampled)`);
    for (const [k, v] of r.packages) console.log(`  ${v.toFixed(0).padStart(7)} ms  ${((100 * v) / r.total).toFixed(1).padStart(5)}%  ${k}`);
    console.log('  --');
    for (const [k, v] of r.functions) console.log(`  ${v.toFixed(0).padStart(7)} ms  ${((100 * v) / r.total).toFixed(1).padStart(5)}%  ${k}`);
  }
}
