import type { NatsConnection } from '@nats-io/transport-node';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { BUCKETS, decodeJson } from '@errand/contracts';
import type { Logger } from '@errand/runtime';
import { SNAPSHOT_VERSION, snapshotPieces, type Snapshot } from '../domain/snapshot.ts';
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
      const snap = decodeJson(data) as Snapshot;
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

  /**
   * Serialise now (consistent with `state.seq`), then store. The object store
   * reads the snapshot as a stream of pieces (`snapshotPieces`) and sends it in
   * chunks, each piece let go once read: there is never one string or one
   * buffer of the whole snapshot.
   */
  async save(state: SchedState): Promise<number> {
    const encoder = new TextEncoder();
    const { seq, tasks, pieces } = snapshotPieces(state, (text) => encoder.encode(text));
    let bytes = 0;
    for (const p of pieces) bytes += p.length;
    let next = 0;
    const data = new ReadableStream<Uint8Array>({
      pull(c) {
        if (next >= pieces.length) return c.close();
        c.enqueue(pieces[next]!);
        pieces[next++] = EMPTY;
      },
    });
    await (await this.os()).put({ name: NAME }, data);
    this.log.info('snapshot written', { seq, tasks, bytes });
    return seq;
  }
}

const EMPTY = new Uint8Array(0);
