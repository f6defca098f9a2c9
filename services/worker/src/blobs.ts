import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { BUCKETS, decodeJson, encodeJson } from '@errand/contracts';

const REF_PREFIX = 'obj:';

/** Names of blobs in `errand_blobs` (INTERNALS.md "Checkpoints, results and partial results"). */
export const blobNames = {
  checkpoint: (tenant: string, taskId: string, attempt: number) => `cp/${tenant}/${taskId}/${attempt}`,
  result: (tenant: string, taskId: string) => `result/${tenant}/${taskId}`,
};

/** JSON values in the object store `errand_blobs`, addressed by refs `obj:<name>`. */
export class Blobs {
  private storeP: Promise<ObjectStore> | undefined;

  constructor(private readonly nc: NatsConnection) {}

  private store(): Promise<ObjectStore> {
    this.storeP ??= new Objm(this.nc).open(BUCKETS.blobs).catch((err: unknown) => {
      this.storeP = undefined;
      throw err;
    });
    return this.storeP;
  }

  /** Store already-encoded JSON under `name`; returns its ref and size. */
  async putBytes(name: string, data: Uint8Array): Promise<{ ref: string; bytes: number }> {
    const os = await this.store();
    await os.putBlob({ name }, data);
    return { ref: REF_PREFIX + name, bytes: data.length };
  }

  async putJson(name: string, value: unknown): Promise<{ ref: string; bytes: number }> {
    return await this.putBytes(name, encodeJson(value ?? null));
  }

  /** The JSON value behind a ref; undefined when it is not an `obj:` ref or is gone. */
  async getJson(ref: string): Promise<{ value: unknown } | undefined> {
    if (!ref.startsWith(REF_PREFIX)) return undefined;
    const os = await this.store();
    const data = await os.getBlob(ref.slice(REF_PREFIX.length));
    return data ? { value: decodeJson(data) } : undefined;
  }
}
