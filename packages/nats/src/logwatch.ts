import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { STREAMS, type LogSink } from '@errand/contracts';
import { isStreamNotFound } from './errors.ts';

/** What the watch logs through (the service's logger; the kit does not depend on the runtime package). */
export type Logger = LogSink;

/** What a service knew of the log: each stream's creation time, and the event log's sequences and task count. */
export interface LogMark {
  /** stream name -> its `created` time */
  created: Record<string, string>;
  firstSeq: number;
  lastSeq: number;
  /** subjects in ERRAND_EVENTS: one per task */
  tasks: number;
}

/** A reset of the log, as detected. */
export interface LogReset {
  at: string;
  reason: string;
  /** tasks the log held before (0 when unknown) */
  lostTasks: number;
}

/** The process-wide record of resets (for `/readyz` and the `errand_log_resets_total` metric). */
const resets: { count: number; last?: LogReset } = { count: 0 };

/** How many times this process found the log reset or lost (a counter: expose as `errand_log_resets_total`). */
export function logResetCount(): number {
  return resets.count;
}

/** The last reset this process found, if any (for `/readyz` details). */
export function lastLogReset(): LogReset | undefined {
  return resets.last;
}

/** Count and keep a reset found elsewhere (e.g. a scheduler snapshot ahead of the log). */
export function recordLogReset(r: LogReset): void {
  resets.count++;
  resets.last = r;
}

const WATCHED = [STREAMS.events, STREAMS.work, STREAMS.notify] as const;

async function currentMark(jsm: JetStreamManager): Promise<LogMark> {
  const created: Record<string, string> = {};
  let ev: Awaited<ReturnType<JetStreamManager['streams']['info']>> | undefined;
  for (const name of WATCHED) {
    const info = await jsm.streams.info(name);
    created[name] = info.created;
    if (name === STREAMS.events) ev = info;
  }
  return { created, firstSeq: ev!.state.first_seq, lastSeq: ev!.state.last_seq, tasks: ev!.state.num_subjects ?? 0 };
}

/** Why `now` is not the log `before` described, or undefined when it is the same log. */
export function resetReason(before: LogMark, now: LogMark): string | undefined {
  for (const name of WATCHED) {
    const was = before.created[name];
    if (was && now.created[name] && was !== now.created[name]) return `stream ${name} was created anew (created ${now.created[name]}, before ${was})`;
  }
  if (now.lastSeq < before.lastSeq) return `the event log's last sequence went backwards (${now.lastSeq}, before ${before.lastSeq})`;
  if (now.firstSeq < before.firstSeq) return `the event log's first sequence went backwards (${now.firstSeq}, before ${before.firstSeq})`;
  return undefined;
}

export interface LogWatchOptions {
  service: string;
  log: Logger;
  /** where the mark survives a restart (the data folder); unset = only while running */
  dataDir?: string;
  /** re-create every stream and bucket (provision) */
  reprovision: () => Promise<void>;
  /** the service's reaction: start afresh on the new log */
  onReset: (r: LogReset) => Promise<void>;
  intervalMs?: number;
}

/**
 * Notices that the log a service knew is gone: a stream missing (re-created
 * at once, so nothing stays 503), created anew, or its sequences gone
 * backwards; on start, the same against the mark kept in the data folder.
 * Says so loudly (an `error` line with the tasks lost, `lastLogReset()`,
 * `logResetCount()`), then lets the service start afresh.
 */
export class LogWatch {
  private known: LogMark | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private readonly file: string | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: LogWatchOptions,
  ) {
    this.file = o.dataDir ? join(o.dataDir, 'log-marks', `${o.service}.json`) : undefined;
  }

  /** Compare with the mark of the last run (after provisioning), then check every `intervalMs`. */
  async start(): Promise<LogReset | undefined> {
    const saved = this.readMark();
    const jsm = await jetstreamManager(this.nc);
    const now = await currentMark(jsm);
    let found: LogReset | undefined;
    const why = saved && resetReason(saved, now);
    if (why) found = this.report(why, saved.tasks, 'since this service last ran');
    this.remember(now);
    this.timer = setInterval(() => void this.check(), this.o.intervalMs ?? 2_000);
    this.timer.unref();
    return found;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One check of the log against what is known; a reset found is reported and handed to `onReset`. */
  async check(): Promise<void> {
    if (this.busy || this.nc.isClosed()) return;
    this.busy = true;
    try {
      // a short timeout: while streams are deleted or re-created a request may go unanswered
      const jsm = await jetstreamManager(this.nc, { timeout: 2_000 });
      let now: LogMark;
      let why: string | undefined;
      try {
        now = await currentMark(jsm);
        why = this.known && resetReason(this.known, now);
      } catch (err) {
        if (!isStreamNotFound(err)) throw err;
        await this.o.reprovision();
        now = await currentMark(jsm);
        why = 'a stream disappeared while running (stream not found); re-created';
      }
      if (why) {
        const r = this.report(why, this.known?.tasks ?? 0, 'while running');
        this.remember(now);
        await this.o.onReset(r);
      } else this.remember(now);
    } catch (err) {
      // NATS away or slow: the next check tries again
      this.o.log.debug('log check failed', { error: (err as Error).message });
    } finally {
      this.busy = false;
    }
  }

  private report(reason: string, lostTasks: number, when: string): LogReset {
    const r: LogReset = { at: new Date().toISOString(), reason, lostTasks };
    recordLogReset(r);
    this.o.log.error(`the event log was reset ${when}: ${lostTasks} tasks known before are gone; starting afresh on the new log`, {
      reason,
      lostTasks,
      resetAt: r.at,
    });
    return r;
  }

  private remember(mark: LogMark): void {
    const changed = JSON.stringify(mark) !== JSON.stringify(this.known);
    this.known = mark;
    if (changed) this.writeMark(mark);
  }

  private readMark(): LogMark | undefined {
    if (!this.file) return undefined;
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as LogMark;
    } catch {
      return undefined;
    }
  }

  private writeMark(mark: LogMark): void {
    if (!this.file) return;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      // several processes of one service may share the folder: write whole, then rename
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(mark));
      renameSync(tmp, this.file);
    } catch (err) {
      this.o.log.warn('could not keep the log mark in the data folder', { error: (err as Error).message });
    }
  }
}
