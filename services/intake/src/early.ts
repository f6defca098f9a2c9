import type { LogSink } from '@errand/contracts';
import { loadConfig } from '@errand/config';
import { openHistoryStore, type HistoryStore } from '@errand/history';

/**
 * A log sink that keeps what it is told until it is given the service's
 * logger, then passes everything on: the store is opened before the logger
 * exists (it comes with the service's runtime, loaded later).
 */
export class LaterLog implements LogSink {
  private target: LogSink | undefined;
  private kept: [keyof LogSink, string, Record<string, unknown> | undefined][] = [];

  attach(target: LogSink): void {
    this.target = target;
    for (const [level, msg, fields] of this.kept) target[level](msg, fields);
    this.kept = [];
  }
  private say(level: keyof LogSink, msg: string, fields?: Record<string, unknown>): void {
    if (this.target) this.target[level](msg, fields);
    else if (this.kept.length < 100) this.kept.push([level, msg, fields]);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.say('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.say('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.say('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.say('error', msg, fields);
  }
}

/**
 * Begin opening the embedded history store at once, before the rest of the
 * intake is loaded: its process (PGlite's WebAssembly, PostgreSQL's start)
 * takes about a second of its own, which then overlaps the intake's loading,
 * its NATS connection and its provisioning instead of following them.
 * Undefined when there is nothing to begin: a PostgreSQL server is configured,
 * or the configuration is invalid (the service's start says why).
 * Failures are the caller's to report when it awaits the promise.
 */
export function beginEmbeddedStore(log: LogSink): Promise<HistoryStore> | undefined {
  let dataDir: string;
  try {
    const config = loadConfig();
    if (config.ERRAND_DATABASE_URL) return undefined;
    dataDir = config.ERRAND_DATA_DIR;
  } catch {
    return undefined;
  }
  const opening = openHistoryStore({ dataDir, log });
  // awaited (and its failure reported) by the intake's start; never an unhandled rejection meanwhile
  opening.catch(() => undefined);
  return opening;
}
