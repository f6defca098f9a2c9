import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ErrandError } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
// everything from this origin, nothing from a CDN (the page must work with no internet)
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
}

/** The dashboard's files (read once: a handful of small files) and chart.js from node_modules. */
function loadAssets(): Map<string, Asset> {
  const dir = join(HERE, 'dashboard');
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  // chart.js's package entry is dist/chart.cjs; its browser build sits beside it
  const chartDir = dirname(createRequire(import.meta.url).resolve('chart.js'));
  assets.set('chart.umd.min.js', { body: readFileSync(join(chartDir, 'chart.umd.min.js')), type: TYPES['.js']! });
  return assets;
}

/**
 * `GET /`: the dashboard, static HTML, CSS and ES modules with no build step.
 * The page reads the same `/v1` API as every client (with the API key the
 * user gives it, kept in the browser), and its live parts are SSE streams.
 */
export function dashboardRoutes(_ctx: IntakeContext) {
  const assets = loadAssets();
  return async (app: FastifyInstance) => {
    app.get('/', { schema: { hide: true } }, async (_req, reply) => {
      const a = assets.get('index.html')!;
      return reply.type(a.type).header('content-security-policy', CSP).header('cache-control', 'no-cache').send(a.body);
    });
    app.get('/dashboard/:file', { schema: { hide: true } }, async (req, reply) => {
      const file = (req.params as { file: string }).file;
      const a = assets.get(file);
      if (!a || file === 'index.html') throw new ErrandError('not_found', `no dashboard file ${file.slice(0, 100)}`);
      return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
    });
  };
}
