import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

export interface StoredMsg {
  seq: number;
  subject: string;
  data: string;
  /** every header as `name: value` lines */
  headers: string;
}

/**
 * Read every message of a stream (or of one subject filter) as it is now,
 * with an ordered consumer: stops at the last matching message.
 */
export async function readStream(nc: NatsConnection, stream: string, filter?: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream, filter ? { subjects_filter: filter } : undefined);
  const last = info.state.last_seq;
  const total = filter ? Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0) : info.state.messages;
  if (total === 0) return [];
  const c = await jetstream(nc).consumers.get(stream, filter ? { filter_subjects: filter } : {});
  const out: StoredMsg[] = [];
  const iter = await c.consume({ max_messages: 1_000 });
  for await (const m of iter) {
    const headers = m.headers ? [...m.headers.keys()].map((k) => `${k}: ${m.headers!.values(k).join(',')}`).join('\n') : '';
    out.push({ seq: m.seq, subject: m.subject, data: m.string(), headers });
    if (m.info.pending === 0 || m.seq >= last) break;
  }
  await iter.close();
  return out;
}
