// A task's timeline from its events: each wait and each run, with its duration.

/**
 * Segments [{kind: 'wait'|'run', label, from, to, open, outcome?}] in order; `open`
 * marks the one still going (its `to` is now).
 */
export function timeline(events, now = Date.now()) {
  const out = [];
  let wait; // {from, label}
  let run; // {from, attempt}
  const end = (at, outcome) => {
    if (run) out.push({ kind: 'run', label: `attempt ${run.attempt}`, from: run.from, to: at, outcome });
    else if (wait) out.push({ kind: 'wait', label: wait.label, from: wait.from, to: at, outcome });
    run = undefined;
    wait = undefined;
  };
  for (const e of events) {
    const at = Date.parse(e.at);
    switch (e.type) {
      case 'submitted':
        wait = { from: at, label: 'waited in the queue' };
        break;
      case 'started':
        if (wait) out.push({ kind: 'wait', label: wait.label, from: wait.from, to: at });
        wait = undefined;
        run = { from: at, attempt: e.attempt };
        break;
      case 'failed':
        if (e.willRetry) {
          end(at, `failed: ${e.error.message}`);
          wait = { from: at, label: 'waited to retry' };
        } else end(at, 'failed');
        break;
      case 'completed':
      case 'cancelled':
      case 'timed-out':
      case 'rejected':
        end(at, e.type);
        break;
      case 'retry-requested':
        if (!run && !wait) wait = { from: at, label: 'waited after a retry' };
        break;
      default:
        break;
    }
  }
  if (run) out.push({ kind: 'run', label: `attempt ${run.attempt}`, from: run.from, to: now, open: true });
  else if (wait) out.push({ kind: 'wait', label: wait.label.replace('waited', 'waiting'), from: wait.from, to: now, open: true });
  return out;
}
