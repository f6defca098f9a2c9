import { invalid, submitBatchBodySchema, type ErrorBody } from '@errand/contracts';
import type { IntakeContext } from '../context.ts';
import { submit, type SubmitAnswer } from './submit.ts';
import { toErrandError } from './errors.ts';

export type BatchItem = SubmitAnswer | ErrorBody;

/**
 * Submit up to 1,000 tasks: the one implementation behind `POST /v1/tasks/batch`
 * and `errand.api.<tenant>.submit-batch`. Each item is decided on its own (a
 * refused item is its `{error}`, in its place). Every item runs at once: their
 * `submitted` events go out pipelined (the publisher keeps them in flight
 * together, no await between them) and their decisions are awaited together,
 * each waiter registered before its append.
 */
export async function submitBatch(ctx: IntakeContext, tenant: string, raw: unknown): Promise<{ items: BatchItem[] }> {
  const parsed = submitBatchBodySchema.safeParse(raw);
  if (!parsed.success) throw invalid('the batch body must be {"tasks": [submit body, …]} with 1 to 1,000 tasks', parsed.error);
  const items = await Promise.all(
    parsed.data.tasks.map((body) =>
      submit(ctx, tenant, body).catch((err: unknown): ErrorBody => {
        const e = toErrandError(err, ctx.connection.up);
        if (e.code === 'internal') ctx.log.error('batch item failed', { err: (e.cause as Error | undefined) ?? e });
        return e.toBody();
      }),
    ),
  );
  return { items };
}
