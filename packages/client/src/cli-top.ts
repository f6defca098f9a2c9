// `errand top`: the live screen of running tasks, the queue and the task types.
import type { TaskView } from '@errand/contracts';
import { formatTop } from './cli-format.ts';
import { isErrandError } from './errors.ts';
import type { ErrandClient } from './http.ts';
import type { TaskTypeListing } from './types.ts';

/**
 * `errand top`: running and queued tasks kept current by the live task list
 * (SSE), redrawn on each change (at most 4 times a second) and every second;
 * the task types (workers, free slots) are read again every 5 s. Ctrl-C quits.
 * Not on a terminal: one screen, then exit.
 */
export async function top(client: ErrandClient, say: (text: string) => void): Promise<number> {
  const tasks = new Map<string, TaskView>();
  let types: TaskTypeListing['items'] = [];
  const load = async () => {
    const [running, queued, t] = await Promise.all([
      client.list({ state: 'running', limit: 1000 }),
      client.list({ state: 'queued', limit: 1000 }),
      client.taskTypes(),
    ]);
    tasks.clear();
    for (const v of [...running.items, ...queued.items]) tasks.set(v.id, v);
    types = t.items;
  };
  const screen = () => {
    const all = [...tasks.values()];
    return formatTop({ running: all.filter((v) => v.state === 'running'), queued: all.filter((v) => v.state === 'queued'), types, now: Date.now(), columns: process.stdout.columns });
  };
  await load();
  if (!process.stdout.isTTY) {
    say(screen());
    return 0;
  }
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  let drawn = 0;
  let pending: NodeJS.Timeout | undefined;
  const draw = () => {
    pending = undefined;
    drawn = Date.now();
    process.stdout.write(`\u001b[H\u001b[2J${screen()}\n\n(live; Ctrl-C to quit)\n`);
  };
  const soon = () => {
    if (!pending) pending = setTimeout(draw, Math.max(0, 250 - (Date.now() - drawn)));
  };
  const clock = setInterval(draw, 1000);
  const typesTimer = setInterval(() => void client.taskTypes().then((t) => (types = t.items), () => undefined), 5000);
  draw();
  try {
    while (!ac.signal.aborted) {
      try {
        for await (const c of client.changes({}, { signal: ac.signal })) {
          if (c.kind === 'resync') await load();
          else if (c.view.state === 'running' || c.view.state === 'queued') tasks.set(c.view.id, c.view);
          else tasks.delete(c.view.id);
          soon();
        }
      } catch (err) {
        if (ac.signal.aborted) break;
        if (isErrandError(err) && !err.retryable) throw err;
      }
      if (ac.signal.aborted) break;
      // the stream broke: changes may have been missed
      await new Promise((r) => setTimeout(r, 1000));
      await load().catch(() => undefined);
    }
  } finally {
    clearInterval(clock);
    clearInterval(typesTimer);
    if (pending) clearTimeout(pending);
    process.removeListener('SIGINT', onSigint);
  }
  return 0;
}

