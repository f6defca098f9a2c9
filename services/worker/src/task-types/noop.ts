import { defineTaskType, z } from '@errand/worker';

/** The benchmark's hot path: returns `result` at once, no progress, no checkpoint. */
export const noopType = defineTaskType({
  name: 'demo.noop',
  description: 'Returns params.result at once (no progress, no checkpoint).',
  params: z.object({ result: z.unknown().optional() }),
  defaults: { timeoutMs: 60_000 },
  run: (ctx) => ctx.params.result ?? null,
});
