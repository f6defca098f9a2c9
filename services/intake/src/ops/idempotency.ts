import { createHash } from 'node:crypto';
import { ErrandError, encodeJson, kvKeys, type TaskRecord } from '@errand/contracts';
import { isKeyExists } from '@errand/nats';
import type { IntakeContext } from '../context.ts';

export const sha256hex = (text: string) => createHash('sha256').update(text).digest('hex');

export type Claim = { kind: 'new'; taskId: string } | { kind: 'existing'; record: TaskRecord };

interface Entry {
  taskId: string;
  bodyHash: string;
}

/**
 * Claim an idempotency key for a new task (KV `create`: only one request wins),
 * or find the task that already holds it. A different body is a `conflict`;
 * a rejected holder gives the key up to a new task (compare-and-set on its revision).
 */
export async function claimKey(
  ctx: Pick<IntakeContext, 'stores' | 'events' | 'readModel'>,
  tenant: string,
  key: string,
  bodyHash: string,
  taskId: string,
): Promise<Claim> {
  const kv = ctx.stores.idempotency;
  const kvKey = kvKeys.idempotency(tenant, sha256hex(key));
  const mine = encodeJson({ taskId, bodyHash } satisfies Entry);
  for (let round = 0; round < 3; round++) {
    try {
      await kv.create(kvKey, mine);
      return { kind: 'new', taskId };
    } catch (err) {
      if (!isKeyExists(err)) throw err;
    }
    const e = await kv.get(kvKey);
    if (!e || e.operation !== 'PUT') continue;
    const prior = e.json<Entry>();
    if (prior.bodyHash !== bodyHash) {
      throw new ErrandError('conflict', 'this idempotency key was already used with a different body', {
        details: { id: prior.taskId },
      });
    }
    // the first request is still on its way, or died before writing: finish it under the same id
    // (the `submitted` msgID de-duplicates a double write)
    if ((await ctx.events.lastSeq(tenant, prior.taskId)) === 0) return { kind: 'new', taskId: prior.taskId };
    const record = await ctx.readModel.readYourWrites(tenant, prior.taskId);
    if (record.state !== 'rejected') return { kind: 'existing', record };
    try {
      await kv.update(kvKey, mine, e.revision);
      return { kind: 'new', taskId };
    } catch (err) {
      if (!isKeyExists(err)) throw err;
    }
  }
  throw new ErrandError('conflict', 'concurrent requests are using this idempotency key; try again', { retryable: true });
}
