import { isTerminalState, type TaskRecord } from '@errand/contracts';
import type { Blobs } from '@errand/nats';
import type { Logger } from '@errand/runtime';

/**
 * Removes what tasks leave behind in the blob store: a completed task's
 * checkpoints at once, a cancelled task's when the cancel said
 * `discardPartial`, and every other checkpoint once it is older than the
 * partial-result retention and its task is no longer running.
 */
export class Janitor {
  private chain: Promise<void> = Promise.resolve();
  private lastSweep = 0;

  constructor(
    private readonly blobs: Blobs,
    private readonly log: Logger,
    private readonly retentionMs: number,
    private readonly sweepEveryMs = 600_000,
  ) {}

  /** Called for each task that just ended. */
  ended(r: Pick<TaskRecord, 'id' | 'tenant' | 'state' | 'attempt' | 'checkpointRef' | 'discardPartial'>): void {
    // a task that never wrote a checkpoint has nothing to remove (most tasks: no lookups for them)
    if (!r.checkpointRef) return;
    if (r.state === 'completed' || (r.state === 'cancelled' && r.discardPartial)) {
      this.enqueue(() => this.blobs.deleteCheckpoints(r.tenant, r.id, Math.max(r.attempt, 1)));
    }
  }

  /** Sweep old checkpoints when due; `active` tells whether a task still runs. */
  maybeSweep(now: number, isLive: (tenant: string, taskId: string) => boolean): void {
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.enqueue(async () => {
      const stale = await this.blobs.staleCheckpoints(now - this.retentionMs);
      let removed = 0;
      for (const s of stale) {
        if (isLive(s.tenant, s.taskId)) continue;
        await this.blobs.delete(s.name);
        removed++;
      }
      if (removed) this.log.info('removed partial results past their retention', { removed });
    });
  }

  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(job).catch((err: unknown) => this.log.warn('blob clean-up failed', { error: (err as Error).message }));
  }

  /** Wait for the clean-up under way (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }
}

export function isLiveRecord(r: Pick<TaskRecord, 'state'> | undefined): boolean {
  return !!r && !isTerminalState(r.state);
}
