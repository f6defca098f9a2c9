/**
 * Estimate the time left from the progress curve: the rate (percent per ms)
 * between successive reports, smoothed by an exponential moving average.
 * Without a known starting point (a resumed attempt) the first report only
 * sets the baseline, and the estimate is omitted until a second one moves.
 * Pure: elapsed time comes in as an argument.
 */
export class EtaEstimator {
  private last: { percent: number; at: number } | undefined;
  private rate: number | undefined;

  /** `fromZero`: the attempt started at 0 % at elapsed 0 (not a resumed one). */
  constructor(
    fromZero: boolean,
    private readonly alpha = 0.3,
  ) {
    if (fromZero) this.last = { percent: 0, at: 0 };
  }

  /** Record a report at `elapsedMs` since the attempt began; returns the ETA in ms, or undefined. */
  update(percent: number, elapsedMs: number): number | undefined {
    if (percent >= 100) return 0;
    const prev = this.last;
    if (!prev) {
      this.last = { percent, at: elapsedMs };
      return undefined;
    }
    const dp = percent - prev.percent;
    const dt = elapsedMs - prev.at;
    if (dp > 0 && dt > 0) {
      const r = dp / dt;
      this.rate = this.rate === undefined ? r : this.alpha * r + (1 - this.alpha) * this.rate;
      this.last = { percent, at: elapsedMs };
    } else if (dp < 0) {
      // the handler went back: start over from here
      this.last = { percent, at: elapsedMs };
      this.rate = undefined;
    }
    const base = this.last ?? prev;
    if (this.rate === undefined || this.rate <= 0) return undefined;
    // time since the last movement counts against the estimate
    const sinceLast = Math.max(0, elapsedMs - base.at);
    return Math.max(0, Math.round((100 - base.percent) / this.rate - sinceLast));
  }
}
