import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '@errand/contracts';
import { checkLog, startNatsCluster, steadyLoad, waitFor, type NatsCluster } from '@errand/testing';
import { System } from './harness.ts';

/**
 * A 3-node JetStream cluster with every stream and bucket at 3 replicas:
 * under a steady load, the node that leads ERRAND_EVENTS is killed, brought
 * back, then the node that leads it now is killed (one node down at a time).
 */
describe('a 3-node cluster survives losing a node', () => {
  let cluster: NatsCluster;
  let sys: System;

  beforeAll(async () => {
    cluster = await startNatsCluster({ size: 3 });
    sys = await System.start({
      natsUrl: cluster.url,
      env: {
        ERRAND_REPLICAS: '3',
        ERRAND_CONCURRENCY: '24',
        ERRAND_WORKER_CONCURRENCY: '24',
        ERRAND_MAX_PENDING_PER_USER: '1000',
      },
    });
  });

  afterAll(async () => {
    await sys?.stop();
    await cluster?.stop();
  });

  /** the node that leads ERRAND_EVENTS now, asked of the cluster (any live node answers) */
  const leader = async (): Promise<string> =>
    await waitFor(
      async () => {
        const jsm = await jetstreamManager(sys.nc, { timeout: 2_000 });
        const info = await jsm.streams.info(STREAMS.events);
        return info.cluster?.leader;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'ERRAND_EVENTS to have a leader' },
    );

  /** every replica of ERRAND_EVENTS is back and current */
  const replicasCurrent = async (): Promise<boolean> => {
    const jsm = await jetstreamManager(sys.nc, { timeout: 2_000 });
    const info = await jsm.streams.info(STREAMS.events);
    const replicas = info.cluster?.replicas ?? [];
    return replicas.length === 2 && replicas.every((r) => r.current && !r.offline);
  };

  it('creates every stream and bucket with ERRAND_REPLICAS (3) replicas', async () => {
    const jsm = await jetstreamManager(sys.nc, { timeout: 5_000 });
    const replicas: Record<string, number> = {};
    for await (const si of jsm.streams.list()) replicas[si.config.name] = si.config.num_replicas;
    expect(Object.keys(replicas).length).toBeGreaterThanOrEqual(10);
    expect(Object.entries(replicas).filter(([, n]) => n !== 3)).toEqual([]);
  });

  it('loses no task and runs none twice when the event stream leader is killed twice, and keeps taking tasks', async () => {
    const total = 240;
    const load = steadyLoad({
      url: sys.url,
      total,
      ratePerSec: 8,
      body: (i) => ({ type: 'demo.sleep', params: { durationMs: 300, steps: 2 }, user: `u-${i % 12}` }),
    });
    const accepted = (n: number) => waitFor(() => load.figures.accepted.length >= n, { timeoutMs: 90_000, intervalMs: 100, what: `${n} tasks accepted` });

    await accepted(40);
    const first = await leader();
    await cluster.node(first).kill();
    const second = await waitFor(async () => {
      const l = await leader();
      return l !== first ? l : undefined;
    }, { timeoutMs: 30_000, what: 'a new leader of ERRAND_EVENTS' });
    await accepted(100);
    await cluster.node(first).restart();
    await waitFor(replicasCurrent, { timeoutMs: 60_000, intervalMs: 250, what: 'every replica of ERRAND_EVENTS current again' });

    const now = await leader();
    await cluster.node(now).kill();
    await accepted(170);
    await cluster.node(now).restart();
    const figures = await load.done;

    let report = await checkLog(sys.nc, figures.accepted);
    await waitFor(
      async () => {
        report = await checkLog(sys.nc, figures.accepted);
        return report.notTerminal.length === 0 && report.missing.length === 0;
      },
      { timeoutMs: 120_000, intervalMs: 1_000, what: 'every accepted task to end' },
    ).catch(() => undefined);
    console.log(
      `[cluster] killed ${first} (leader), then ${now} (leader after ${second}); ${figures.accepted.length} accepted; ` +
        `longest pause between accepted submits ${figures.longestPauseMs} ms, longest submit ${figures.longestSubmitMs} ms, ` +
        `${figures.failedTries} failed tries; outcomes ${JSON.stringify(report.outcomes)}, open at ${JSON.stringify(report.openAt)}`,
    );
    if (report.notTerminal.length) {
      const jsm = await jetstreamManager(sys.nc, { timeout: 5_000 });
      const work = await jsm.streams.info(STREAMS.work);
      console.log('[cluster] ERRAND_WORK', JSON.stringify({ state: work.state, cluster: work.cluster }));
      for await (const ci of jsm.consumers.list(STREAMS.work)) {
        const { name, num_pending, num_ack_pending, num_waiting, delivered, ack_floor, cluster } = ci;
        console.log('[cluster] consumer', JSON.stringify({ name, num_pending, num_ack_pending, num_waiting, delivered, ack_floor, cluster }));
      }
    }
    expect(sys.crashed()).toEqual([]);
    expect(figures.accepted.length).toBe(total);
    expect(report.missing).toEqual([]);
    expect(report.notTerminal).toEqual([]);
    expect(report.multipleTerminal).toEqual([]);
    expect(report.startedTwice).toEqual([]);
    expect(report.outcomes).toEqual({ completed: total });
  });
});
