import { Objm, type ObjectStore } from '@nats-io/obj';
import { BUCKETS } from '@errand/contracts';
import { blobNameOf, type Blobs } from '@errand/nats';
import type { IntakeContext } from '../context.ts';

/** The content behind a blob ref (`obj:<name>` in `errand_blobs`): JSON when it parses, else text. */
export async function loadBlob(ctx: { stores: { blobs: Blobs } }, ref: string | undefined): Promise<unknown> {
  return (await ctx.stores.blobs.getJson(ref))?.value;
}

const stores = new WeakMap<object, Promise<ObjectStore>>();

/** The size in bytes of the blob behind a ref, without reading it; undefined when it is gone. */
export async function blobSize(ctx: Pick<IntakeContext, 'nc'>, ref: string | undefined): Promise<number | undefined> {
  const name = blobNameOf(ref);
  if (!name) return undefined;
  let os = stores.get(ctx.nc);
  if (!os) {
    os = new Objm(ctx.nc).open(BUCKETS.blobs);
    os.catch(() => stores.delete(ctx.nc));
    stores.set(ctx.nc, os);
  }
  const info = await (await os).info(name);
  return info && !info.deleted ? info.size : undefined;
}
