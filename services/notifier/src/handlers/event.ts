import { isTerminalEvent, recordFromSubmitted, taskKey } from '@errand/contracts';
import { extractTrace } from '@errand/telemetry';
import { applyEvent, memoFromHistory, memoFromRecord, planDeliveries, type Seen, type TaskMemo } from '../domain/memo.ts';
import { buildMessage } from '../domain/message.ts';
import { deliverOne, Stopped } from './deliver.ts';
import type { HandlerDeps, Item } from './deps.ts';

/**
 * The memo of the event's task: from the cache, or rebuilt from the log. A
 * redelivered event, or one the cached fold already passed, is rebuilt from
 * the log: another notifier (or this one before a restart) may have recorded
 * deliveries the cache does not know. So is the first event of a task seen
 * during the catch-up after a start (the log's end at that moment).
 */
async function memoFor(deps: HandlerDeps, seen: Seen, redelivered: boolean): Promise<TaskMemo | undefined> {
  const { tenant, taskId } = seen.event;
  const key = taskKey(tenant, taskId);
  const cached = deps.memos.get(key);
  if (cached && !redelivered && seen.seq > cached.record.lastSeq) return cached;
  // a task without targets never gets anything delivered: its fold is all we need
  if (cached && cached.record.deliver.length === 0) return cached;
  let memo: TaskMemo | undefined;
  // after a (re)start, events up to the log's end at that moment may have been delivered already
  const trusted = !redelivered && seen.seq > deps.catchUpSeq();
  if (!cached && seen.event.type === 'submitted' && (trusted || seen.event.deliver.length === 0)) {
    memo = memoFromRecord(recordFromSubmitted(seen.event, seen.seq));
  } else {
    const first = cached ? undefined : await deps.log.first(tenant, taskId);
    if (first && first.event.type === 'submitted' && first.event.deliver.length === 0) {
      memo = memoFromRecord(recordFromSubmitted(first.event, first.seq));
    } else if (cached || first) {
      memo = memoFromHistory(await deps.log.history(tenant, taskId), seen.seq);
    }
  }
  if (memo) deps.memos.set(key, memo);
  return memo;
}

const isDeliveryEvent = (s: Seen) => s.event.type === 'progress' || isTerminalEvent(s.event);

/**
 * One event of the log, in its task's order: fold it, deliver it to the
 * targets that should get it, record the outcomes, then ack. An exception
 * never escapes: a failure naks the event (and drops the task's memo so the
 * next try refolds it from the log).
 */
export async function onEvent(deps: HandlerDeps, item: Item, waiting: () => readonly Item[]): Promise<void> {
  const { msg, seen } = item;
  const key = taskKey(seen.event.tenant, seen.event.taskId);
  if (deps.signal().aborted) return deps.settle(msg, 'nak');
  try {
    const memo = await memoFor(deps, seen, msg.info.redelivered);
    if (!memo) {
      deps.logger.warn('event of a task without a submitted event: skipped', { taskId: seen.event.taskId, seq: seen.seq, type: seen.event.type });
      return deps.settle(msg, 'term');
    }
    const fold = applyEvent(memo, seen);
    const laterWaiting = () => waiting().some((w) => isDeliveryEvent(w.seen));
    const plan = planDeliveries(memo, seen, fold, { laterWaiting: laterWaiting() });
    if (plan.length > 0) {
      const terminal = isTerminalEvent(seen.event);
      const partial = terminal && fold.after.partialRef ? await deps.loadPartial(fold.after.partialRef) : undefined;
      const message = buildMessage(fold.after, seen.event, { publicUrl: deps.settings.publicUrl, partialResult: partial });
      const trace = extractTrace(msg.headers);
      const results = await Promise.allSettled(plan.map((p) => deliverOne(deps, memo, seen, p, message, trace, laterWaiting)));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    deps.settle(msg, 'ack');
  } catch (err) {
    deps.memos.delete(key);
    if (err instanceof Stopped || deps.signal().aborted) return deps.settle(msg, 'nak');
    deps.logger.error('event handling failed, will retry', { taskId: seen.event.taskId, seq: seen.seq, error: (err as Error).message });
    deps.settle(msg, 'nak', 2_000);
  }
}
