/** One of a worker's consumers (one per pool and task type), as the slot allocation sees it. */
export interface ConsumerSlots {
  key: string;
  /** messages asked for and not yet received (open pull requests) */
  asked: number;
  /** its last pull brought work: it may well have more */
  busy: boolean;
}

/**
 * Share `free` slots among consumers so that no more messages are asked for
 * than there are free slots in all: first one each to consumers with no open
 * request (so every type is heard, in turn from `turn`), then the rest evenly
 * among the busy ones, or among all when none is busy. Returns how many
 * messages to ask of each (absent = none).
 */
export function allocateSlots(free: number, consumers: ConsumerSlots[], turn: number): Map<string, number> {
  const out = new Map<string, number>();
  const n = consumers.length;
  if (free <= 0 || n === 0) return out;
  const order = consumers.map((_, i) => consumers[(turn + i) % n]!);
  const add = (key: string, k: number) => out.set(key, (out.get(key) ?? 0) + k);
  let left = free;
  for (const c of order) {
    if (left === 0) break;
    if (c.asked === 0) {
      add(c.key, 1);
      left--;
    }
  }
  if (left === 0) return out;
  const takers = order.some((c) => c.busy) ? order.filter((c) => c.busy) : order;
  const share = Math.floor(left / takers.length);
  let extra = left % takers.length;
  for (const c of takers) {
    const k = share + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    if (k > 0) add(c.key, k);
  }
  return out;
}
