/** Shared set-up of the intake's integration tests (not a test file itself). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { BUCKETS, decodeEvent, encodeJson, makeEvent, subjects, type DecidedNote, type TaskTypeInfo } from '@errand/contracts';
import { loadConfig } from '@errand/config';
import { EventLog, provision } from '@errand/nats';
import { createLogger } from '@errand/runtime';
import { startNatsServer, type NatsServer } from '@errand/testing';
import { buildIntake, type Intake } from './app.ts';

export const KEYS = { acme: 'key-acme-123', other: 'key-other-456' };
export const auth = (tenant: keyof typeof KEYS = 'acme') => ({ authorization: `Bearer ${KEYS[tenant]}` });

export function typeInfo(name: string, paramsSchema: Record<string, unknown> = {}): TaskTypeInfo {
  return {
    name,
    paramsSchema,
    pool: 'default',
    defaults: { timeoutMs: 60_000, priority: 4, maxAttempts: 3 },
    updatedAt: new Date().toISOString(),
  };
}

export interface Rig {
  server: NatsServer;
  nc: NatsConnection;
  intake: Intake;
  log: EventLog;
  registerType(t: TaskTypeInfo): Promise<void>;
  close(): Promise<void>;
}

/**
 * A nats-server, a provisioned intake (API keys for tenants `acme` and
 * `other`), and a stand-in scheduler: it answers every `submitted` with
 * `queued` (position = its count so far), except users `full` (rejected,
 * queue_full), `silent` (no answer), and `noted` / `noted-full` (no event:
 * only the scheduler's note, queued at position 777 / rejected queue_full).
 */
export async function startRig(env: Record<string, string> = {}): Promise<Rig> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  await provision(nc);
  const config = loadConfig({
    NATS_URL: server.url,
    ERRAND_API_KEYS: `${KEYS.acme}=acme,${KEYS.other}=other`,
    ERRAND_SECRET_KEY: 'test-secret-key-0123456789abcdef',
    ERRAND_DATA_DIR: mkdtempSync(join(tmpdir(), 'errand-intake-')),
    // long enough for a loaded machine (the decision goes through the history store); 'silent' tasks wait it out
    ERRAND_DECISION_WAIT_MS: '3000',
    ...env,
  });
  const log = new EventLog(nc);
  let queued = 0;
  const sub = nc.subscribe(subjects.allEvents, {
    callback: (err, msg) => {
      if (err) return;
      const d = decodeEvent(msg.data);
      if (!d.ok || d.value.type !== 'submitted') return;
      const e = d.value;
      const task = { taskId: e.taskId, tenant: e.tenant };
      if (e.user === 'silent') return;
      // decided only by the scheduler's note (nothing in the log): what a submit answers before the store has the decision
      if (e.user === 'noted' || e.user === 'noted-full') {
        const d: DecidedNote['d'][number] =
          e.user === 'noted' ? { t: e.tenant, i: e.taskId, s: 'queued', q: 1, p: 777 } : { t: e.tenant, i: e.taskId, s: 'rejected', q: 1, c: 'queue_full', m: 'noted as full' };
        nc.publish(subjects.decided, encodeJson({ d: [d] } satisfies DecidedNote));
        return;
      }
      const decision =
        e.user === 'full'
          ? makeEvent('rejected', task, new Date(), { code: 'queue_full', message: 'user full has 10 pending tasks' })
          : makeEvent('queued', task, new Date(), { position: queued++ });
      void log.append(decision).catch(() => undefined);
    },
  });
  const intake = await buildIntake({ config, nc, log: createLogger('intake-test', {}, 'error') });
  await intake.start();
  const types = await new Kvm(nc).open(BUCKETS.types);
  return {
    server,
    nc,
    intake,
    log,
    registerType: async (t) => {
      await types.put(t.name, encodeJson(t));
    },
    close: async () => {
      sub.unsubscribe();
      await intake.stop();
      log.close();
      await nc.close();
      await server.stop();
    },
  };
}
