import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { BUCKETS, blobNames, decodeJson, encodeJson } from '@errand/contracts';

const REF_PREFIX = 'obj:';


/** The name behind an `obj:` ref, or undefined for any other ref. */
export function blobNameOf(ref: string | undefined): string | undefined {
  return ref?.startsWith(REF_PREFIX) ? ref.slice(REF_PREFIX.length) : undefined;
}

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

  /**
   * The value behind a ref: JSON when it parses, else text; undefined when it
   * is not an `obj:` ref, is gone, or is larger than `maxBytes`.
   */
  async getJson(ref: string | undefined, maxBytes = Number.POSITIVE_INFINITY): Promise<{ value: unknown } | undefined> {
    const name = blobNameOf(ref);
    if (!name) return undefined;
    const os = await this.store();
    if (Number.isFinite(maxBytes)) {
      const info = await os.info(name);
      if (!info || info.deleted || info.size > maxBytes) return undefined;
    }
    const data = await os.getBlob(name);
    if (!data) return undefined;
    try {
      return { value: decodeJson(data) };
    } catch {
      return { value: new TextDecoder().decode(data) };
    }
  }

  async delete(name: string): Promise<void> {
    const os = await this.store();
    await os.delete(name).catch(() => undefined);
  }

  /** Remove every checkpoint of a task (attempts 1..upTo). */
  async deleteCheckpoints(tenant: string, taskId: string, upTo: number): Promise<void> {
    for (let a = 1; a <= upTo; a++) await this.delete(blobNames.checkpoint(tenant, taskId, a));
  }

  /** Checkpoints last written before `olderThanMs` (epoch ms), for the retention sweep. */
  async staleCheckpoints(olderThanMs: number): Promise<{ name: string; tenant: string; taskId: string }[]> {
    const os = await this.store();
    const out: { name: string; tenant: string; taskId: string }[] = [];
    for (const info of await os.list()) {
      if (info.deleted || !info.name.startsWith(blobNames.checkpointPrefix)) continue;
      if (Date.parse(info.mtime) >= olderThanMs) continue;
      const [, tenant, taskId] = info.name.split('/');
      if (tenant && taskId) out.push({ name: info.name, tenant, taskId });
    }
    return out;
  }
}
