import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrandError, invalid, listQuerySchema, toView, type TaskView } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';
import type { LiveChange } from '../adapters/read-model.ts';
import { KEEP_ALIVE_MS } from './events.ts';

/** Changes are sent at most this often per stream, the latest view of each task. */
export const FLUSH_MS = 250;
/** More changed tasks than this between two flushes: the client is told to reload instead. */
export const MAX_PENDING = 500;
/** Live lists one intake serves at once. */
export const MAX_STREAMS = 256;

const liveQuerySchema = listQuerySchema.pick({ state: true, user: true, type: true });


/**
 * `GET /v1/tasks` with `Accept: text/event-stream`: the tenant's task changes,
 * live (the dashboard's list). Each SSE message is `event: task`, `data:` the
 * task view (as in the list, without `result`); a task that left the `state`
 * filter is sent once more so the client can drop it. `event: resync` asks
 * the client to load the list again (it fell too far behind). Nothing is kept
 * per stream beyond one pending view per changed task, at most MAX_PENDING;
 * the stream's listener is removed when the client goes away.
 */
export function liveList(ctx: IntakeContext, open: Set<() => void>, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const q = liveQuerySchema.safeParse(req.query ?? {});
  if (!q.success) throw invalid('the list query does not fit its schema', q.error);
  if (open.size >= MAX_STREAMS) throw new ErrandError('unavailable', 'too many live lists open on this intake; try again later', { retryable: true });
  const tenant = req.tenant;
  const f = q.data;
  const out = new PassThrough();
  let pending = new Map<string, TaskView>();
  let overflow = false;
  const listener = (c: LiveChange) => {
    const r = c.after;
    if (r.tenant !== tenant || (f.type !== undefined && r.type !== f.type) || (f.user !== undefined && r.user !== f.user)) return;
    if (f.state !== undefined && r.state !== f.state && c.before?.state !== f.state) return;
    if (overflow) return;
    if (pending.size >= MAX_PENDING && !pending.has(r.id)) {
      overflow = true;
      pending = new Map();
      return;
    }
    pending.set(r.id, viewOf(r));
  };
  const flush = () => {
    if (overflow) {
      out.write('event: resync\ndata: {}\n\n');
      overflow = false;
      return;
    }
    if (pending.size === 0) return;
    for (const v of pending.values()) out.write(`event: task\ndata: ${JSON.stringify(v)}\n\n`);
    pending = new Map();
  };
  const remove = ctx.readModel.onChange(listener);
  const flusher = setInterval(flush, FLUSH_MS);
  const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    open.delete(close);
    remove();
    clearInterval(flusher);
    clearInterval(keepAlive);
    out.end();
  };
  open.add(close);
  reply.raw.once('close', close);
  out.write(': live task changes\n\n');
  return reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no')
    .send(out);
}

function viewOf(r: LiveChange['after']): TaskView {
  const v = toView(r);
  delete v.result;
  return v;
}
