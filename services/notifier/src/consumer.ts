import { AckPolicy, DeliverPolicy, type JetStreamManager, type ConsumerConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { CONSUMERS, STREAMS, subjects } from '@errand/contracts';

/**
 * Create the notifier's durable consumer, or keep it when it exists (several
 * notifiers may race here at start): every event, explicit ack. Only the
 * limits we set deliberately are updated in place.
 */
export async function ensureNotifierConsumer(jsm: JetStreamManager, opts: { name?: string; maxAckPending: number; ackWaitMs: number }): Promise<void> {
  const name = opts.name ?? CONSUMERS.notifier;
  const want: Partial<ConsumerConfig> = {
    durable_name: name,
    filter_subject: subjects.allEvents,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: opts.maxAckPending,
    ack_wait: nanos(opts.ackWaitMs),
    // an event is never given up by the server: the notifier decides (delivery-failed)
    max_deliver: -1,
  };
  const info = await jsm.consumers.info(STREAMS.events, name).catch(() => undefined);
  if (!info) {
    try {
      await jsm.consumers.add(STREAMS.events, want);
      return;
    } catch (err) {
      // another notifier created it first: fall through to the check below
      if (!(await jsm.consumers.info(STREAMS.events, name).catch(() => undefined))) throw err;
      return;
    }
  }
  if (info.config.max_ack_pending !== opts.maxAckPending || info.config.ack_wait !== want.ack_wait) {
    await jsm.consumers.update(STREAMS.events, name, {
      max_ack_pending: opts.maxAckPending,
      ack_wait: want.ack_wait!,
    });
  }
}
