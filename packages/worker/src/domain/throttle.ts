export type Offer<T> = { emit: T } | { holdUntil: number };

/**
 * At most one progress event per `intervalMs` per task. The first report is
 * emitted at once; a report inside the interval is held (replacing an older
 * held one) until the interval has passed; `flush()` hands over the held one
 * before the attempt's terminal event, so the last report is never dropped.
 * Pure: time comes in as an argument.
 */
export class ProgressThrottle<T> {
  private lastEmitAt: number | undefined;
  private held: T | undefined;

  constructor(private readonly intervalMs = 250) {}

  offer(report: T, now: number): Offer<T> {
    if (this.lastEmitAt === undefined || now - this.lastEmitAt >= this.intervalMs) {
      this.held = undefined;
      this.lastEmitAt = now;
      return { emit: report };
    }
    this.held = report;
    return { holdUntil: this.lastEmitAt + this.intervalMs };
  }

  /** The held report once its time has come (for a timer), else undefined. */
  due(now: number): T | undefined {
    if (!this.held || this.lastEmitAt === undefined || now - this.lastEmitAt < this.intervalMs) return undefined;
    return this.flush(now);
  }

  /** Hand over the held report regardless of time (before a terminal event). */
  flush(now: number): T | undefined {
    const r = this.held;
    if (r) {
      this.held = undefined;
      this.lastEmitAt = now;
    }
    return r;
  }

  get holding(): boolean {
    return this.held !== undefined;
  }
}
