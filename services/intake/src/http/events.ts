import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrandError, isTerminalEvent, isTerminalState } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';
import { history } from '../ops/tasks.ts';
import { tokenParam, traced } from './common.ts';
import { docs } from './schemas.ts';

export const KEEP_ALIVE_MS = 15_000;

function lastEventId(req: FastifyRequest): number {
  const raw = req.headers['last-event-id'];
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ErrandError('invalid', 'Last-Event-ID must be an event sequence number');
  return n;
}

/** `GET /v1/tasks/:id/events`: the history as JSON, or as SSE followed by live events until terminal. */
export function eventRoutes(ctx: IntakeContext) {
  const open = new Set<() => void>();
  return async (app: FastifyInstance) => {
    app.addHook('onClose', async () => {
      for (const stop of open) stop();
    });
    app.get('/v1/tasks/:id/events', { schema: docs.events }, async (req, reply) => {
      const id = tokenParam(req);
      if (!/text\/event-stream/.test(req.headers.accept ?? '')) {
        return traced('errand.history', req, () => history(ctx, req.tenant, id));
      }
      const after = lastEventId(req);
      const r = await ctx.readModel.readYourWrites(req.tenant, id);
      // a task already ended streams what is there and closes; a live one closes after its next terminal event
      const endAt = isTerminalState(r.state) ? r.lastSeq : undefined;
      const out = new PassThrough();
      void pump(ctx, { tenant: req.tenant, id, after, endAt, liveFrom: r.lastSeq }, out, open, reply.raw);
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .send(out);
    });
  };
}

interface StreamSpec {
  tenant: string;
  id: string;
  /** send events after this sequence */
  after: number;
  /** close after this sequence (a task terminal at the start) */
  endAt: number | undefined;
  /** events after this sequence are live: a terminal one among them closes the stream */
  liveFrom: number;
}

async function pump(
  ctx: IntakeContext,
  s: StreamSpec,
  out: PassThrough,
  open: Set<() => void>,
  raw: NodeJS.EventEmitter,
): Promise<void> {
  if (s.endAt !== undefined && s.after >= s.endAt) {
    out.end();
    return;
  }
  // the event log owns the stream's consumer: closing the reader removes it
  const events = ctx.events.taskEvents(s.tenant, s.id, { afterSeq: s.after, ...(s.endAt !== undefined ? { untilSeq: s.endAt } : {}) });
  let stopped = false;
  const stop = () => {
    stopped = true;
    void events.close();
  };
  open.add(stop);
  raw.once('close', stop);
  const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  try {
    for await (const e of events) {
      out.write(`id: ${e.seq}\nevent: ${e.event.type}\ndata: ${JSON.stringify(e.event)}\n\n`);
      if (s.endAt === undefined && e.seq > s.liveFrom && isTerminalEvent(e.event)) break;
    }
  } catch (err) {
    if (!stopped) ctx.log.warn('event stream ended early', { taskId: s.id, err });
  } finally {
    clearInterval(keepAlive);
    await events.close();
    open.delete(stop);
    raw.removeListener('close', stop);
    out.end();
  }
}
