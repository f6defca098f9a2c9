/**
 * The ready queue: higher priority first; within a priority, round-robin
 * between lines (one line per tenant and user, so one user's burst cannot
 * starve another's, and two tenants' users of one name are two lines);
 * within a line, first come first served.
 *
 * It is part of the scheduler's fold: entries come and go as events are
 * applied, and the round-robin turn moves when a `dispatched` event is
 * applied (`take`), never when a decision is only being made. `walk` reads
 * the order without changing anything. Removal is lazy: `remove` marks an
 * entry gone and readers skip it, so cancelling a queued task costs O(1).
 */
interface Line {
  items: string[];
  head: number;
  live: number;
}

interface Level {
  lines: Map<string, Line>;
  /** lines with live entries, in round-robin order */
  ring: string[];
  /** where the next turn starts in `ring` */
  cursor: number;
  live: number;
}

/** One entry: the task's key, its line (`tenant/user`) and priority. */
export interface Candidate {
  key: string;
  line: string;
  priority: number;
}

export class FairQueue {
  private readonly levels: Level[] = Array.from({ length: 10 }, () => ({ lines: new Map(), ring: [], cursor: 0, live: 0 }));
  private readonly where = new Map<string, { priority: number; line: string }>();

  get size(): number {
    return this.where.size;
  }

  has(key: string): boolean {
    return this.where.has(key);
  }

  /** Add at the back of its line (or the front, for a retry that already waited its turn). */
  push(key: string, lineKey: string, priority: number, front = false): void {
    if (this.where.has(key)) return;
    const level = this.levels[priority]!;
    let line = level.lines.get(lineKey);
    if (!line) {
      line = { items: [], head: 0, live: 0 };
      level.lines.set(lineKey, line);
    }
    if (line.live === 0) level.ring.push(lineKey);
    if (front && line.head > 0) line.items[--line.head] = key;
    else if (front) line.items.unshift(key);
    else line.items.push(key);
    line.live++;
    level.live++;
    this.where.set(key, { priority, line: lineKey });
  }

  remove(key: string): boolean {
    const w = this.where.get(key);
    if (!w) return false;
    this.where.delete(key);
    const level = this.levels[w.priority]!;
    const line = level.lines.get(w.line)!;
    line.live--;
    level.live--;
    if (line.live === 0) this.dropLine(level, w.line);
    this.compact(line);
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
   * without changing the queue.
   */
  *walk(): Generator<Candidate> {
    for (let p = 9; p >= 0; p--) {
      const level = this.levels[p]!;
      if (level.live === 0) continue;
      const n = level.ring.length;
      const cursors = level.ring.map((_, j) => {
        const name = level.ring[(level.cursor + j) % n]!;
        const line = level.lines.get(name)!;
        return { name, line, i: line.head };
      });
      // a key removed and pushed again (a retry) may sit twice in its line: the first live one counts
      const seen = new Set<string>();
      while (cursors.length) {
        for (let j = 0; j < cursors.length; ) {
          const c = cursors[j]!;
          while (c.i < c.line.items.length && (!this.where.has(c.line.items[c.i]!) || seen.has(c.line.items[c.i]!))) c.i++;
          if (c.i >= c.line.items.length) {
            cursors.splice(j, 1);
            continue;
          }
          const key = c.line.items[c.i++]!;
          seen.add(key);
          yield { key, line: c.name, priority: p };
          j++;
        }
      }
    }
  }

  /** Keys in dispatch order, ignoring limits (tests and diagnostics). */
  order(): string[] {
    return [...this.walk()].map((c) => c.key);
  }

  private compact(line: Line): void {
    while (line.head < line.items.length && !this.where.has(line.items[line.head]!)) line.head++;
    if (line.head > 1024 && line.head * 2 > line.items.length) {
      line.items = line.items.slice(line.head);
      line.head = 0;
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
