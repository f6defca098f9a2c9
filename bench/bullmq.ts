import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { waitFor } from '@errand/testing';
import { dist, say, sleep, type Dist } from './lib/stats.ts';
import type { BenchOptions } from './lib/options.ts';

export interface BullResults {
  version: string;
  throughput?: { jobs: number; seconds: number; perSecond: number };
  latency?: { sent: number; start: Dist; completed: Dist };
  skipped?: string;
}

const CONCURRENCY = 1_000;

/** Is Redis there? A short ping, no retries. */
async function reachable(url: string): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    r.disconnect();
  }
}

/** BullMQ on Redis doing the no-op job: bulk throughput, then latency at a steady rate. */
export async function runBullmq(o: BenchOptions, version: string): Promise<BullResults> {
  const why = await reachable(o.redisUrl);
  if (why) return { version, skipped: `Redis not reachable at ${o.redisUrl} (${why})` };
  const out: BullResults = { version };
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const name = `errand-bench-${process.pid}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  try {
    if (!o.skip.has('errand')) out.throughput = await throughput(queue, connection, name, o.tasks);
    if (!o.skip.has('latency')) out.latency = await latency(queue, connection, name, o.rate, o.latencySeconds);
  } finally {
    await queue.obliterate({ force: true }).catch((err: unknown) => say(`bullmq: could not clean queue ${name}: ${(err as Error).message}`));
    await queue.close();
    connection.disconnect();
  }
  return out;
}

function worker(connection: Redis, name: string, onStart: (job: Job) => void, onCompleted: (job: Job) => void): Worker {
  const w = new Worker(
    name,
    async (job) => {
      onStart(job);
      return job.data.result ?? null;
    },
    { connection: connection.duplicate({ maxRetriesPerRequest: null }), concurrency: CONCURRENCY, autorun: true },
  );
  w.on('completed', onCompleted);
  w.on('error', (err) => say(`bullmq worker error: ${err.message}`));
  return w;
}

async function throughput(queue: Queue, connection: Redis, name: string, n: number) {
  say(`bullmq: throughput, ${n} no-op jobs (addBulk in chunks of 1000), worker concurrency ${CONCURRENCY}`);
  let done = 0;
  let last = 0;
  const w = worker(connection, name, () => undefined, () => {
    done++;
    last = performance.now();
  });
  await w.waitUntilReady();
  const t0 = performance.now();
  const adds: Promise<unknown>[] = [];
  for (let i = 0; i < n; i += 1_000) {
    const jobs = Array.from({ length: Math.min(1_000, n - i) }, () => ({ name: 'noop', data: {} }));
    adds.push(queue.addBulk(jobs));
  }
  await Promise.all(adds);
  await waitFor(() => done >= n, { timeoutMs: 120_000, intervalMs: 20, what: `${n} BullMQ jobs` });
  const seconds = (last - t0) / 1000;
  await w.close();
  await queue.drain(true);
  return { jobs: done, seconds, perSecond: done / seconds };
}

async function latency(queue: Queue, connection: Redis, name: string, rate: number, seconds: number) {
  const total = rate * seconds;
  say(`bullmq: latency, ${total} jobs at ${rate}/s`);
  const addAt = new Map<string, number>();
  const startAt = new Map<string, number>();
  const doneAt = new Map<string, number>();
  const w = worker(
    connection,
    name,
    (job) => startAt.set(job.id!, performance.now()),
    (job) => doneAt.set(job.id!, performance.now()),
  );
  await w.waitUntilReady();
  const adds: Promise<unknown>[] = [];
  let sent = 0;
  const t0 = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    while (sent < due) {
      const id = `lat-${sent++}`;
      addAt.set(id, performance.now());
      adds.push(queue.add('noop', {}, { jobId: id }));
    }
    await sleep(1);
  }
  await Promise.all(adds);
  await waitFor(() => doneAt.size >= total, { timeoutMs: 60_000, what: 'the BullMQ latency run to complete' });
  await w.close();
  const start: number[] = [];
  const completed: number[] = [];
  for (const [id, at] of addAt) {
    if (startAt.has(id)) start.push(startAt.get(id)! - at);
    if (doneAt.has(id)) completed.push(doneAt.get(id)! - at);
  }
  return { sent: total, start: dist(start), completed: dist(completed) };
}

