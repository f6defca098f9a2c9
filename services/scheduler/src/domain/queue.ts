/**
 * The ready queue: higher priority first; within a priority, round-robin
 * between lines (one line per tenant and user, so one user's burst cannot
 * starve another's, and two tenants' users of one name are two lines);
 * within a line, first come first served.
 *
 * It is part of the scheduler's fold: entries come and go as events are
 * applied, and the round-robin turn moves when a `dispatched` event is
 * applied (`take`), never when a decision is only being made. `walk` reads
 * the order without changing anything. A line keeps one sub-line per task
 * type, so a walk that passes over types (no live worker) skips their
 * backlog at no cost. Removal is lazy: `remove` marks an entry gone and
 * readers skip it, so cancelling a queued task costs O(1).
 */
interface Sub {
  keys: string[];
  /** arrival order of each key: later pushes count up, pushes to the front count down */
  ords: number[];
  head: number;
  live: number;
}

interface Line {
  subs: Map<string, Sub>;
  live: number;
}

/** Where a live entry is; `ord` tells it from a stale copy of its key (removed, then pushed again). */
interface Where {
  priority: number;
  line: string;
  type: string;
  ord: number;
}

interface Level {
  lines: Map<string, Line>;
  /** lines with live entries, in round-robin order */
  ring: string[];
  /** where the next turn starts in `ring` */
  cursor: number;
  live: number;
}

/** One entry: the task's key, its line (`tenant/user`), type and priority. */
export interface Candidate {
  key: string;
  line: string;
  type: string;
  priority: number;
}

export class FairQueue {
  private readonly levels: Level[] = Array.from({ length: 10 }, () => ({ lines: new Map(), ring: [], cursor: 0, live: 0 }));
  private readonly where = new Map<string, Where>();
  private back = 0;
  private front = 0;

  get size(): number {
    return this.where.size;
  }

  has(key: string): boolean {
    return this.where.has(key);
  }

  /** Add at the back of its line (or the front, for a retry that already waited its turn). */
  push(key: string, lineKey: string, type: string, priority: number, atFront = false): void {
    if (this.where.has(key)) return;
    const level = this.levels[priority]!;
    let line = level.lines.get(lineKey);
    if (!line) {
      line = { subs: new Map(), live: 0 };
      level.lines.set(lineKey, line);
    }
    if (line.live === 0) level.ring.push(lineKey);
    let sub = line.subs.get(type);
    if (!sub) {
      sub = { keys: [], ords: [], head: 0, live: 0 };
      line.subs.set(type, sub);
    }
    const ord = atFront ? --this.front : ++this.back;
    if (atFront && sub.head > 0) {
      sub.keys[--sub.head] = key;
      sub.ords[sub.head] = ord;
    } else if (atFront) {
      sub.keys.unshift(key);
      sub.ords.unshift(ord);
    } else {
      sub.keys.push(key);
      sub.ords.push(ord);
    }
    sub.live++;
    line.live++;
    level.live++;
    this.where.set(key, { priority, line: lineKey, type, ord });
  }

  remove(key: string): boolean {
    const w = this.where.get(key);
    if (!w) return false;
    this.where.delete(key);
    const level = this.levels[w.priority]!;
    const line = level.lines.get(w.line)!;
    const sub = line.subs.get(w.type)!;
    sub.live--;
    line.live--;
    level.live--;
    if (sub.live === 0) line.subs.delete(w.type);
    else this.compact(sub);
    if (line.live === 0) this.dropLine(level, w.line);
    return true;
  }

  /** The entry was dispatched: remove it, and the next turn at its priority starts after its line. */
  take(key: string): void {
    const w = this.where.get(key);
    if (!w) return;
    const level = this.levels[w.priority]!;
    const idx = level.ring.indexOf(w.line);
    this.remove(key);
    if (level.ring.length === 0) return;
    const pos = level.ring.indexOf(w.line);
    // the line emptied and left the ring: the one that slid into its place is next
    level.cursor = pos === -1 ? idx % level.ring.length : (pos + 1) % level.ring.length;
  }

  /**
   * Tasks ahead of a task that would be pushed now on `lineKey` at
   * `priority`: everything at higher priorities, the line's own entries, and,
   * by round-robin, up to as many of each other line's as it has plus one.
   */
  positionFor(lineKey: string, priority: number): number {
    let ahead = 0;
    for (let p = 9; p > priority; p--) ahead += this.levels[p]!.live;
    const level = this.levels[priority]!;
    const own = level.lines.get(lineKey)?.live ?? 0;
    ahead += own;
    for (const [l, line] of level.lines) if (l !== lineKey) ahead += Math.min(line.live, own + 1);
    return ahead;
  }

  /**
   * Every entry in dispatch order (priority, then one entry per line per
   * round starting at the current turn, then first come first served),
   * without changing the queue. Entries of types `skip` names are passed
   * over without being looked at one by one.
   */
  *walk(skip: (type: string) => boolean = () => false): Generator<Candidate> {
    for (let p = 9; p >= 0; p--) {
      const level = this.levels[p]!;
      if (level.live === 0) continue;
      const n = level.ring.length;
      const later: LineCursor[] = [];
      // round one builds the cursors as it goes: a walk stopped early touches few lines
      for (let j = 0; j < n; j++) {
        const name = level.ring[(level.cursor + j) % n]!;
        const c = new LineCursor(name, level.lines.get(name)!, skip, this.where);
        if (!c.next()) continue;
        yield { key: c.key, type: c.type, line: name, priority: p };
        later.push(c);
      }
      while (later.length) {
        for (let j = 0; j < later.length; ) {
          const c = later[j]!;
          if (!c.next()) {
            later.splice(j, 1);
            continue;
          }
          yield { key: c.key, type: c.type, line: c.name, priority: p };
          j++;
        }
      }
    }
  }

  /** Keys in dispatch order, ignoring limits (tests and diagnostics). */
  order(): string[] {
    return [...this.walk()].map((c) => c.key);
  }

  private compact(sub: Sub): void {
    while (sub.head < sub.keys.length && !isLive(this.where, sub, sub.head)) sub.head++;
    if (sub.head > 1024 && sub.head * 2 > sub.keys.length) {
      sub.keys = sub.keys.slice(sub.head);
      sub.ords = sub.ords.slice(sub.head);
      sub.head = 0;
    }
  }

  private dropLine(level: Level, name: string): void {
    const idx = level.ring.indexOf(name);
    if (idx === -1) return;
    level.ring.splice(idx, 1);
    if (idx < level.cursor) level.cursor--;
    if (level.cursor >= level.ring.length) level.cursor = 0;
    level.lines.delete(name);
  }
}

const isLive = (where: ReadonlyMap<string, Where>, sub: Sub, i: number): boolean => where.get(sub.keys[i]!)?.ord === sub.ords[i];

/** A walk's place in one line: the next live entry of each sub-line not skipped; the earliest goes first. */
class LineCursor {
  private readonly subs: { type: string; sub: Sub; i: number }[] = [];
  /** the entry `next` found */
  key = '';
  type = '';

  constructor(
    readonly name: string,
    line: Line,
    skip: (type: string) => boolean,
    private readonly where: ReadonlyMap<string, Where>,
  ) {
    for (const [type, sub] of line.subs) if (!skip(type)) this.subs.push({ type, sub, i: sub.head });
  }

  /** Move to the line's next entry; false when there is none. */
  next(): boolean {
    let best: { type: string; sub: Sub; i: number } | undefined;
    for (const s of this.subs) {
      while (s.i < s.sub.keys.length && !isLive(this.where, s.sub, s.i)) s.i++;
      if (s.i < s.sub.keys.length && (!best || s.sub.ords[s.i]! < best.sub.ords[best.i]!)) best = s;
    }
    if (!best) return false;
    this.key = best.sub.keys[best.i++]!;
    this.type = best.type;
    return true;
  }
}
