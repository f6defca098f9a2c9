import type { ErrandEvent } from '@errand/contracts';

/** One readable line about an event, for the CLI's watch. */
export function describeEvent(e: ErrandEvent): string {
  switch (e.type) {
    case 'submitted':
      return `submitted ${e.taskType} (priority ${e.priority}, timeout ${Math.round(e.timeoutMs / 1000)}s)`;
    case 'queued':
      return `queued (${e.position === 0 ? 'next to run' : `${e.position} ahead`})`;
    case 'rejected':
      return `rejected: ${e.code}: ${e.message}`;
    case 'dispatched':
      return `dispatched (attempt ${e.attempt}, pool ${e.pool})`;
    case 'started':
      return `started on ${e.workerId} (attempt ${e.attempt}${e.resumedFrom ? ', resuming from a checkpoint' : ''})`;
    case 'progress':
      return `${Math.floor(e.percent)}%${e.message ? ` ${e.message}` : ''}`;
    case 'checkpoint':
      return `checkpoint (${e.bytes} bytes)`;
    case 'cancel-requested':
      return `cancel requested by ${e.by}${e.reason ? `: ${e.reason}` : ''}`;
    case 'retry-requested':
      return `retry requested by ${e.by}`;
    case 'cancelled':
      return `cancelled${e.partial ? ' (partial result kept)' : ''}`;
    case 'timed-out':
      return `timed out after ${Math.round(e.timeoutMs / 1000)}s${e.partial ? ' (partial result kept)' : ''}`;
    case 'failed':
      return `failed (attempt ${e.attempt}): ${e.error.code}: ${e.error.message}${e.willRetry ? ' — will retry' : ''}`;
    case 'retry-scheduled':
      return `attempt ${e.attempt} scheduled for ${e.notBefore}`;
    case 'completed':
      return 'completed';
    case 'delivered':
      return `delivered ${e.of} to ${e.target.name ?? e.target.kind}`;
    case 'delivery-failed':
      return `delivery of ${e.of} to ${e.target.name ?? e.target.kind} failed${e.error ? `: ${e.error}` : ''}`;
    default: {
      const other: { type: string } = e;
      return other.type;
    }
  }
}
