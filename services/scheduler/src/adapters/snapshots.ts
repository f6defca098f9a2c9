import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { BUCKETS } from '@errand/contracts';
import type { Logger } from '@errand/runtime';
import { SNAPSHOT_VERSION, takeSnapshot, type Snapshot } from '../domain/snapshot.ts';
import type { SchedState } from '../domain/state.ts';

const NAME = 'scheduler';

/** Scheduler snapshots in object store `errand_snapshots`: the state at a sequence, so a restart replays only the log after it. */
export class SnapshotStore {
  private store: Promise<ObjectStore> | undefined;
  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
  ) {}

  private os(): Promise<ObjectStore> {
    this.store ??= new Objm(this.nc).open(BUCKETS.snapshots);
    return this.store;
  }

  async load(): Promise<Snapshot | undefined> {
    try {
      const data = await (await this.os()).getBlob(NAME);
      if (!data) return undefined;
      const snap = JSON.parse(new TextDecoder().decode(data)) as Snapshot;
      if (snap.version !== SNAPSHOT_VERSION) {
        this.log.warn('ignoring a snapshot of another version; replaying the whole log', { version: snap.version });
        return undefined;
      }
      return snap;
    } catch (err) {
      this.log.warn('snapshot unreadable; replaying the whole log', { error: (err as Error).message });
      return undefined;
    }
  }

  /** Serialise now (consistent with `state.seq`), then store. */
  async save(state: SchedState): Promise<number> {
    const snap = takeSnapshot(state);
    const data = new TextEncoder().encode(JSON.stringify(snap));
    await (await this.os()).putBlob({ name: NAME }, data);
    this.log.info('snapshot written', { seq: snap.seq, tasks: snap.tasks.length, bytes: data.length });
    return snap.seq;
  }
}
