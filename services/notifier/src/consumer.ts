import { AckPolicy, DeliverPolicy, type JetStreamManager, type ConsumerConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { CONSUMERS, STREAMS, subjects } from '@errand/contracts';
import { ensureConsumer } from '@errand/nats';

/**
 * Create the notifier's durable consumer, or keep it when it exists (several
 * notifiers may race here at start): every event, explicit ack. Only the
 * limits we set deliberately are updated in place.
 */
export async function ensureNotifierConsumer(jsm: JetStreamManager, opts: { name?: string; maxAckPending: number; ackWaitMs: number }): Promise<void> {
  const want: Partial<ConsumerConfig> & { durable_name: string } = {
    durable_name: opts.name ?? CONSUMERS.notifier,
    filter_subject: subjects.allEvents,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: opts.maxAckPending,
    ack_wait: nanos(opts.ackWaitMs),
    // an event is never given up by the server: the notifier decides (delivery-failed)
    max_deliver: -1,
  };
  await ensureConsumer(jsm, STREAMS.events, want, { update: ['max_ack_pending', 'ack_wait'] });
}
