import { describe, expect, it } from 'vitest';
import { parseAckReply, type AckPosition } from './ackreply.ts';

const fresh = (): AckPosition => ({ streamSeq: -1, consumerSeq: -1, pending: -1 });

describe('parseAckReply', () => {
  it('reads the old form', () => {
    const at = fresh();
    expect(parseAckReply('$JS.ACK.ERRAND_EVENTS.errand_ord_x_1.1.4021.17.1733600000000000000.982', at)).toBe(true);
    expect(at).toEqual({ streamSeq: 4021, consumerSeq: 17, pending: 982 });
  });

  it('reads the new form, with domain and account hash, and with the random token at the end', () => {
    const at = fresh();
    expect(parseAckReply('$JS.ACK._.HASH.ERRAND_EVENTS.c1.1.7.3.1733600000000000000.0', at)).toBe(true);
    expect(at).toEqual({ streamSeq: 7, consumerSeq: 3, pending: 0 });
    expect(parseAckReply('$JS.ACK.hub.HASH.ERRAND_EVENTS.c1.2.9.4.1733600000000000000.5.r4nd0m', at)).toBe(true);
    expect(at).toEqual({ streamSeq: 9, consumerSeq: 4, pending: 5 });
  });

  it('refuses what is not a JetStream reply, and leaves the position as it was', () => {
    const at = fresh();
    for (const r of ['', '_INBOX.abc', '$JS.FC.ERRAND_EVENTS.c1.x', '$JS.ACK.S.c.1.2.3', '$JS.ACK.S.c.1.x2.3.4.5', '$JS.ACK.S.c.1.2..4.5', '$JS.ACK.S.c.1.2.3.4.-5']) {
      expect(parseAckReply(r, at)).toBe(false);
    }
    expect(at).toEqual(fresh());
  });
});
