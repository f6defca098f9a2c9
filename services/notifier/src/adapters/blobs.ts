import type { NatsConnection } from '@nats-io/transport-node';
import { Blobs } from '@errand/nats';

/**
 * Reads partial results (checkpoints) for messages: `obj:<name>` refs in the
 * blob store, up to `maxBytes`. Anything else is left out of the message
 * (the text then links to the result instead).
 */
export function blobReader(nc: NatsConnection, maxBytes = 256 * 1024) {
  const blobs = new Blobs(nc);
  return async (ref: string | undefined): Promise<unknown> => {
    try {
      return (await blobs.getJson(ref, maxBytes))?.value;
    } catch {
      return undefined;
    }
  };
}
