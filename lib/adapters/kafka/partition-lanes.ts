/**
 * Batches of one partition written one after another, while the bus goes on fetching: each partition is a lane
 * that holds at most `depth` batches (the one being written and the ones decoded behind it). A batch that
 * fails ends its lane: the batches queued behind it are skipped (their offsets were never committed, so they
 * are fetched again), `onFailure` hears the failed batch, and every later {@link PartitionLanes.push} throws
 * the failure, so that the caller rejoins its group or restarts from the committed offsets.
 */
export interface PartitionLanes {
  /**
   * Queues `write` behind the partition's earlier batches; resolves once the partition holds fewer than
   * `depth` batches, so the caller's next fetch waits while the lane is full. Throws the first failure of any
   * lane instead of queueing.
   */
  push(partition: number, write: () => Promise<void>, firstOffset: string): Promise<void>;
  /** The first failure of a lane, or undefined. */
  failure(): unknown;
  /** Resolves once every queued batch has finished or been skipped. */
  settled(): Promise<void>;
  /** Batches queued, over every lane. */
  size(): number;
}

interface Lane {
  /** The promise of the newest batch of the lane; each batch starts after the one before it. */
  tail: Promise<void>;
  /** Completions of the batches queued, oldest first. */
  queued: Promise<void>[];
  failed: boolean;
}

/**
 * Lanes of at most `depth` batches per partition (default 2: one written while the next is decoded).
 * `onFailure` is told the partition and first offset of a batch that failed, once per lane.
 * @example const lanes = createPartitionLanes(2, (partition, offset) => consumer.seek({ topic, partition, offset }));
 */
export function createPartitionLanes(
  depth = 2,
  onFailure: (partition: number, firstOffset: string, error: unknown) => void = () => {},
): PartitionLanes {
  const lanes = new Map<number, Lane>();
  const running = new Set<Promise<void>>();
  let first: { error: unknown } | undefined;

  return {
    async push(partition, write, firstOffset) {
      if (first) throw first.error;
      let lane = lanes.get(partition);
      if (!lane) {
        lane = { tail: Promise.resolve(), queued: [], failed: false };
        lanes.set(partition, lane);
      }
      const own = lane;
      const done = own.tail.then(async () => {
        if (own.failed) return;
        try {
          await write();
        } catch (error) {
          own.failed = true;
          first ??= { error };
          onFailure(partition, firstOffset, error);
        }
      });
      own.tail = done;
      own.queued.push(done);
      running.add(done);
      void done.finally(() => {
        running.delete(done);
        own.queued.splice(own.queued.indexOf(done), 1);
      });
      while (own.queued.length >= depth) await own.queued[0];
    },
    failure: () => first?.error,
    async settled() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    size: () => running.size,
  };
}
