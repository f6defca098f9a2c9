import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { EventLog } from '@errand/nats';
import { waitFor } from '@errand/testing';
import { Receiver, newWebhookSecret } from './receiver.ts';
import { System, http } from './harness.ts';

/**
 * Several notifiers sharing the work (ERRAND_NOTIFIER_PARTITIONS=4), as real
 * processes: each holds two partitions, every final message arrives once, and
 * when one is killed the other takes its partitions over.
 */
describe('notifiers sharing the work in partitions', () => {
  let sys: System;
  let rx: Receiver;
  const secret = newWebhookSecret();
  beforeAll(async () => {
    rx = await Receiver.start();
    sys = await System.start({
      env: {
        ERRAND_NOTIFIER_PARTITIONS: '4',
        ERRAND_WEBHOOK_ALLOW: '127.0.0.1',
        ERRAND_DELIVERY_SCHEDULE_MS: '200,400,800',
        ERRAND_NOTIFIER_ACK_WAIT_MS: '3000',
        ERRAND_CONCURRENCY: '50',
        ERRAND_MAX_PENDING_PER_USER: '1000',
      },
    });
  });
  afterAll(async () => {
    await sys?.stop();
    await rx?.close();
  });

  /** Who holds each partition's lease now. */
  async function holders(): Promise<string[]> {
    const kv = await new Kvm(sys.nc).open('errand_leader');
    const out: string[] = [];
    for (let i = 0; i < 4; i++) {
      const e = await kv.get(`notifier-p${i}`);
      out.push(e && e.operation === 'PUT' ? (e.json() as { holder: string }).holder : '');
    }
    return out;
  }

  async function burst(n: number, url: string): Promise<string[]> {
    const ids: string[] = [];
    for (let b = 0; b < n; b += 25) {
      const batch = Array.from({ length: Math.min(25, n - b) }, async (_, i) => {
        const r = await http(sys, 'POST', '/v1/tasks', { type: 'demo.noop', params: { result: b + i }, user: `p${(b + i) % 20}`, deliver: [{ kind: 'webhook', url, secret }] });
        expect(r.status).toBe(202);
        return r.body.id as string;
      });
      ids.push(...(await Promise.all(batch)));
    }
    return ids;
  }

  const finals = (url: string) => new Set(rx.hitsTo(url).filter((x) => x.body?.type === 'completed' && x.answer.status === 200).map((x) => x.body.taskId as string));

  it('splits the partitions between two notifiers, delivers each task once, and hands over when one dies', async () => {
    sys.add('notifier');
    const split = await waitFor(
      async () => {
        const h = await holders();
        const counts = new Map<string, number>();
        for (const x of h) if (x) counts.set(x, (counts.get(x) ?? 0) + 1);
        return counts.size === 2 && [...counts.values()].every((c) => c === 2) ? h : undefined;
      },
      { timeoutMs: 30_000, what: 'two notifiers holding two partitions each' },
    );
    const url = rx.hook('shared', { secret });
    const first = await burst(100, url);
    await waitFor(() => finals(url).size === 100, { timeoutMs: 60_000, what: '100 final messages' });
    expect(rx.duplicates(rx.hitsTo(url))).toEqual([]);
    expect(rx.hitsTo(url).every((x) => x.verified)).toBe(true);
    // every final delivery recorded, not only received: a notifier killed between the receiver's
    // answer and its `delivered` sends that message again (the one duplicate DESIGN allows)
    const log = new EventLog(sys.nc);
    try {
      await waitFor(
        async () => {
          for (const id of first) {
            const h = await log.history('default', id);
            if (!h.some((s) => s.event.type === 'delivered' && s.event.of === 'completed')) return false;
          }
          return true;
        },
        { timeoutMs: 30_000, what: 'the final deliveries of the first burst recorded' },
      );
    } finally {
      log.close();
    }

    // kill the notifier that holds partition 0; the other ends up holding all four
    const victimId = split[0]!;
    const victim = sys.procs.find((p) => p.name === 'notifier' && p.output.includes(victimId))!;
    await victim.stop('SIGKILL');
    const survivor = split.find((h) => h !== victimId)!;
    await waitFor(async () => (await holders()).every((h) => h === survivor), { timeoutMs: 30_000, what: 'the survivor to hold every partition' });
    const second = await burst(50, url);
    await waitFor(() => finals(url).size === 150, { timeoutMs: 60_000, what: '150 final messages' });
    expect([...finals(url)].sort()).toEqual([...first, ...second].sort());
    expect(rx.duplicates(rx.hitsTo(url))).toEqual([]);
  });
});
