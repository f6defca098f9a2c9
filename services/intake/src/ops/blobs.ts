import type { Blobs } from '@errand/nats';

/** The content behind a blob ref (`obj:<name>` in `errand_blobs`): JSON when it parses, else text. */
export async function loadBlob(ctx: { stores: { blobs: Blobs } }, ref: string | undefined): Promise<unknown> {
  return (await ctx.stores.blobs.getJson(ref))?.value;
}
