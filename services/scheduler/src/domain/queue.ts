/**
 * The ready queue: higher priority first; within a priority, round-robin
 * between users (one user's burst cannot starve another's); within a user,
 * first come first served. Removal is lazy: `remove` marks an entry gone and
 * `pop` skips it, so cancelling a queued task costs O(1).
 */
interface UserLine {
  items: string[];
  head: number;
  live: number;
}

interface Level {
  users: Map<string, UserLine>;
  /** users with live entries, in round-robin order */
  ring: string[];
  cursor: number;
  live: number;
}

export interface Candidate {
  key: string;
  user: string;
  priority: number;
}

const SCAN = 64;

export class FairQueue {
  private readonly levels: Level[] = Array.from({ length: 10 }, () => ({ users: new Map(), ring: [], cursor: 0, live: 0 }));
  private readonly where = new Map<string, { priority: number; user: string }>();

  get size(): number {
    return this.where.size;
  }

  has(key: string): boolean {
    return this.where.has(key);
  }

  /** Add at the back of the user's line (or the front, for a retry that already waited its turn). */
  push(key: string, user: string, priority: number, front = false): void {
    if (this.where.has(key)) return;
    const level = this.levels[priority]!;
    let line = level.users.get(user);
    if (!line) {
      line = { items: [], head: 0, live: 0 };
      level.users.set(user, line);
    }
    if (line.live === 0) level.ring.push(user);
    if (front && line.head > 0) line.items[--line.head] = key;
    else if (front) line.items.unshift(key);
    else line.items.push(key);
    line.live++;
    level.live++;
    this.where.set(key, { priority, user });
  }

  remove(key: string): boolean {
    const w = this.where.get(key);
    if (!w) return false;
    this.where.delete(key);
    const level = this.levels[w.priority]!;
    const line = level.users.get(w.user)!;
    line.live--;
    level.live--;
    if (line.live === 0) this.dropUser(level, w.user);
    return true;
  }

  /**
   * Tasks ahead of a task that would be pushed now for `user` at `priority`:
   * everything at higher priorities, the user's own line, and, by round-robin,
   * up to as many of each other user's tasks as the user has plus one.
   */
  positionFor(user: string, priority: number): number {
    let ahead = 0;
    for (let p = 9; p > priority; p--) ahead += this.levels[p]!.live;
    const level = this.levels[priority]!;
    const own = level.users.get(user)?.live ?? 0;
    ahead += own;
    for (const [u, line] of level.users) if (u !== user) ahead += Math.min(line.live, own + 1);
    return ahead;
  }

  /**
   * The next task in order that `fits` accepts (limits per tenant and type);
   * a user whose first task does not fit is passed over this time, keeping
   * their own order. Removes and returns it.
   */
  pop(fits: (key: string) => boolean): Candidate | undefined {
    for (let p = 9; p >= 0; p--) {
      const level = this.levels[p]!;
      if (level.live === 0) continue;
      const n = level.ring.length;
      for (let i = 0; i < n; i++) {
        const idx = (level.cursor + i) % level.ring.length;
        const user = level.ring[idx]!;
        const key = this.firstFitting(level.users.get(user)!, fits);
        if (key === undefined) continue;
        this.remove(key);
        // the next pick at this level starts after this user
        const pos = level.ring.indexOf(user);
        level.cursor = pos === -1 ? idx % Math.max(level.ring.length, 1) : (pos + 1) % level.ring.length;
        return { key, user, priority: p };
      }
    }
    return undefined;
  }

  /**
   * The user's first task that fits. A task blocked by a per-type or
   * per-tenant limit does not hold back the user's tasks of other kinds
   * (looking at most `SCAN` entries deep).
   */
  private firstFitting(line: UserLine, fits: (key: string) => boolean): string | undefined {
    const head = this.peekLine(line);
    if (head === undefined || fits(head)) return head;
    for (let i = line.head + 1, seen = 0; i < line.items.length && seen < SCAN; i++) {
      const key = line.items[i]!;
      if (!this.where.has(key)) continue;
      seen++;
      if (fits(key)) return key;
    }
    return undefined;
  }

  private peekLine(line: UserLine): string | undefined {
    while (line.head < line.items.length) {
      const key = line.items[line.head]!;
      if (this.where.has(key)) {
        if (line.head > 1024 && line.head * 2 > line.items.length) {
          line.items = line.items.slice(line.head);
          line.head = 0;
        }
        return key;
      }
      line.head++; // lazily removed
    }
    return undefined;
  }

  private dropUser(level: Level, user: string): void {
    const idx = level.ring.indexOf(user);
    if (idx === -1) return;
    level.ring.splice(idx, 1);
    if (idx < level.cursor) level.cursor--;
    if (level.cursor >= level.ring.length) level.cursor = 0;
    const line = level.users.get(user)!;
    line.items = [];
    line.head = 0;
  }

  /** Keys in dispatch order, ignoring limits (for tests and diagnostics). */
  order(): string[] {
    const copy = new FairQueue();
    const out: string[] = [];
    for (let p = 9; p >= 0; p--) {
      const level = this.levels[p]!;
      for (const user of level.ring) {
        const line = level.users.get(user)!;
        for (let i = line.head; i < line.items.length; i++) {
          const k = line.items[i]!;
          if (this.where.has(k)) copy.push(k, user, p);
        }
      }
      copy.levels[p]!.cursor = level.cursor;
    }
    for (let c = copy.pop(() => true); c; c = copy.pop(() => true)) out.push(c.key);
    return out;
  }
}
