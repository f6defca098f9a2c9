import type { NatsConnection } from '@nats-io/nats-core';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { BUCKETS, decodeJson } from '@errand/contracts';

/**
 * Reads partial results (checkpoints) for messages: `obj:<name>` refs in the
 * blob store, JSON, up to `maxBytes`. Anything else is left out of the message
 * (the text then links to the result instead).
 */
export function blobReader(nc: NatsConnection, maxBytes = 256 * 1024) {
  let os: Promise<ObjectStore> | undefined;
  return async (ref: string | undefined): Promise<unknown> => {
    if (!ref?.startsWith('obj:')) return undefined;
    try {
      os ??= new Objm(nc).open(BUCKETS.blobs);
      const store = await os;
      const name = ref.slice(4);
      const info = await store.info(name);
      if (!info || info.deleted || info.size > maxBytes) return undefined;
      const data = await store.getBlob(name);
      return data ? decodeJson(data) : undefined;
    } catch {
      return undefined;
    }
  };
}
