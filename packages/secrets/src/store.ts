import type { NatsConnection } from '@nats-io/nats-core';
import { Kvm, type KV } from '@nats-io/kv';
import { BUCKETS, kvKeys } from '@errand/contracts';
import { SecretBox } from './box.ts';

/** Target secrets, encrypted at rest in KV `errand_secrets`. A ref is the KV key. */
export class SecretStore {
  private kvP: Promise<KV> | undefined;
  constructor(
    private readonly nc: NatsConnection,
    private readonly box: SecretBox,
  ) {}
  private kv(): Promise<KV> {
    this.kvP ??= new Kvm(this.nc).open(BUCKETS.secrets);
    return this.kvP;
  }
  /** The ref of the secret of target `index` of a task. */
  static ref(tenant: string, taskId: string, index: number): string {
    return kvKeys.secret(tenant, taskId, index);
  }
  async put(ref: string, secret: string): Promise<void> {
    await (await this.kv()).put(ref, this.box.seal(secret));
  }
  async get(ref: string): Promise<string | undefined> {
    const e = await (await this.kv()).get(ref);
    if (!e || e.operation !== 'PUT') return undefined;
    return this.box.open(e.string());
  }
  async remove(ref: string): Promise<void> {
    await (await this.kv()).purge(ref);
  }
}
