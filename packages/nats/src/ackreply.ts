/**
 * The position a JetStream message carries in its reply subject, read
 * without splitting it into strings (a replay reads millions):
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<streamSeq>.<consumerSeq>.<nanos>.<pending>`,
 * or the newer form with `<domain>.<account hash>` after `ACK` and a random
 * token at the end.
 */
export interface AckPosition {
  /** the message's sequence in the stream */
  streamSeq: number;
  /** the consumer's delivery sequence: one more per message an ordered consumer sends */
  consumerSeq: number;
  /** messages left for the consumer after this one */
  pending: number;
}

const PREFIX = '$JS.ACK.';
const DOT = 46;

/** Fills `out` from a JetStream reply subject; false when `reply` is not one. */
export function parseAckReply(reply: string, out: AckPosition): boolean {
  if (!reply.startsWith(PREFIX)) return false;
  // the dots after the prefix: 6 in the old form, 8 or 9 in the new one
  let dots = 0;
  for (let i = PREFIX.length; i < reply.length; i++) if (reply.charCodeAt(i) === DOT) dots++;
  // numbered fields from the stream name on: stream=0, consumer=1, delivered=2, streamSeq=3, consumerSeq=4, nanos=5, pending=6
  let skip: number;
  if (dots === 6) skip = 0;
  else if (dots === 8 || dots === 9) skip = 2;
  else return false;
  let field = -skip;
  let i = PREFIX.length;
  let streamSeq = -1;
  let consumerSeq = -1;
  let pending = -1;
  while (i <= reply.length && field <= 6) {
    let end = reply.indexOf('.', i);
    if (end === -1) end = reply.length;
    if (field === 3 || field === 4 || field === 6) {
      const n = digits(reply, i, end);
      if (n < 0) return false;
      if (field === 3) streamSeq = n;
      else if (field === 4) consumerSeq = n;
      else pending = n;
    }
    field++;
    i = end + 1;
  }
  if (streamSeq < 0 || consumerSeq < 0 || pending < 0) return false;
  out.streamSeq = streamSeq;
  out.consumerSeq = consumerSeq;
  out.pending = pending;
  return true;
}

/** The decimal number in `s[from, to)`, or -1 when it is not one. */
function digits(s: string, from: number, to: number): number {
  if (to <= from) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
