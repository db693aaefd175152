import type { Consumer, Kafka } from "kafkajs";
import { describeError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { BatchHandler, BusMessage, Subscription } from "../../ports.ts";
import { backoffDelay, retry, StoppedError, stopReason, unlessStopped } from "../../retry.ts";
import { explainKafkaError, hasKafkaErrorType } from "./failures.ts";
import { createPartitionLanes, type PartitionLanes } from "./partition-lanes.ts";
import type { KafkaSettings } from "./settings.ts";

/**
 * Partitions whose batches are handled at once: 3. Each partition's batches still run one after the other, in
 * offset order, and each commits only after its own writes; what runs side by side is batches of different
 * partitions, so that one batch's database round trip overlaps another's decoding. More than the 2 cores
 * of the smallest machines gains nothing but connections; the history's pool is sized to match (see
 * lib/run/stores.ts).
 */
export const PARTITIONS_IN_FLIGHT = 3;
/**
 * Batches of one partition held at once: 3, the one being written and two decoded behind it. kafkajs fetches
 * the next batch as soon as one is queued, so a fetch overlaps the writes of the batches before it; each
 * batch is still committed only after its own writes and those of the partition's batches before it. On the
 * 200,000-tick drain 3 was faster than 2 in each of 3 interleaved pairs (25,400 against 24,225 ticks/s,
 * 30,003 against 23,938, 33,490 against 29,895) for about 6 MiB more at the peak.
 */
export const BATCHES_IN_FLIGHT = 3;
/**
 * Most bytes one fetch takes from one partition: 128 KiB, about 450 ticks (a broker still sends a whole record
 * batch that is larger). kafkajs fetches once per broker and waits until every batch of that fetch is
 * queued ({@link BATCHES_IN_FLIGHT}), so this and {@link MAX_FETCH_BYTES} bound what is decoded and held at once; its defaults (1 MiB
 * per partition, 10 MiB a fetch) let one fetch of a backlog hold tens of thousands of ticks.
 */
export const MAX_BYTES_PER_PARTITION = 128 * 1024;
/**
 * Most bytes of one fetch across its partitions: enough for {@link PARTITIONS_IN_FLIGHT} partitions' batches
 * (384 KiB), so that the batches handled side by side come from one fetch. On the 200,000-tick drain
 * (BENCHMARKS.md) the peak RSS was 163 MiB against 251 MiB with 1 MiB / 3 MiB, which drained about 14% faster:
 * the smaller bound keeps the consumer within a 256 MB machine.
 */
export const MAX_FETCH_BYTES = PARTITIONS_IN_FLIGHT * MAX_BYTES_PER_PARTITION;

/** Backoff between attempts to replace a consumer kafkajs gave up on: 1 s doubling to 30 s, for ever. */
const REPLACE_BACKOFF = { baseMs: 1_000, capMs: 30_000 } as const;

/** Answers of a broker that is not, or not yet, the group's coordinator. */
const NOT_COORDINATOR = ["NOT_COORDINATOR_FOR_GROUP", "GROUP_COORDINATOR_NOT_AVAILABLE"];

/**
 * The group's coordinator went away under a commit or heartbeat: its broker is gone, or answers that it no
 * longer coordinates the group (it moved while that broker was down). kafkajs looks the coordinator up again
 * only when it joins the group, and rejoins at once only on a rebalancing error type; otherwise it retries the
 * stale broker for about 20 s and then crashes. So this error carries that type, and the uncommitted batch is
 * fetched again after the rejoin.
 */
export class CoordinatorLostError extends Error {
  override name = "CoordinatorLostError";
  /** What kafkajs' runner reads to rejoin the group instead of retrying the same broker. */
  readonly type = "NOT_COORDINATOR_FOR_GROUP";
}

/** The error to throw out of a batch for a failed commit or heartbeat: {@link CoordinatorLostError} where it fits. */
export function coordinatorFailure(error: unknown): unknown {
  if (error instanceof CoordinatorLostError) return error;
  const name = (error as { name?: unknown })?.name;
  const lost =
    hasKafkaErrorType(error, ...NOT_COORDINATOR) ||
    name === "KafkaJSConnectionError" ||
    name === "KafkaJSConnectionClosedError" ||
    // The coordinator's broker was fenced and left the cluster's metadata.
    name === "KafkaJSBrokerNotFound";
  if (!lost) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CoordinatorLostError(`the group coordinator is gone: ${message}`, { cause: error });
}

// A plain loop: Object.entries and its pair arrays were about 5% of the drain's CPU for two headers a message.
function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === undefined) return headers;
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return headers;
}

/**
 * Joins the consumer group and feeds each partition batch to `handler` (batches of up to
 * {@link PARTITIONS_IN_FLIGHT} partitions at once, each partition in order), committing its offsets only after
 * the handler resolved. Starts from the earliest offset for a new group, so nothing published before the
 * first start is lost. A failure of the first start (bad credentials, missing ACL) rejects with one line;
 * once running, a consumer that kafkajs gives up on (an outage longer than its retries, a lost coordinator)
 * is replaced by a new one, with backoff, until it works again: `done` settles only when `stop()` was
 * called. `signal` aborts the start (SIGTERM while joining the group) with a StoppedError.
 * @example const sub = await subscribeKafka(kafka, config.kafka, processBatch, log, onCommitted, signal);
 */
export async function subscribeKafka(
  kafka: Kafka,
  config: KafkaSettings,
  handler: BatchHandler,
  log: Logger,
  /** Called after each commit with the partition's remaining lag (high watermark minus the commit). */
  onCommitted?: (partition: number, lag: number) => void,
  signal?: AbortSignal,
): Promise<Subscription> {
  const stopping = new AbortController();
  let current: Consumer | null = null;
  let replacing: Promise<void> | null = null;
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const create = (): Consumer => {
    const consumer = kafka.consumer({
      groupId: config.group,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(config.sessionTimeoutMs / 3)),
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 1_000,
      maxBytesPerPartition: MAX_BYTES_PER_PARTITION,
      maxBytes: MAX_FETCH_BYTES,
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (stopping.signal.aborted || consumer !== current) return;
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      const line = explainKafkaError(error, config, `consume ${config.topic}`).message;
      if (restart) log.warn("kafka consumer crashed, kafkajs restarts it", { error: line });
      else {
        log.warn("kafka consumer gave up, replacing it", { error: line });
        replace();
      }
    });
    return consumer;
  };

  // The lanes of the group generation in force, replaced at each join: batches queued before it were fetched
  // for a generation that no longer exists, and must neither be committed nor hold up the new one.
  let lanes = createPartitionLanes(BATCHES_IN_FLIGHT);
  const generations = new Set<PartitionLanes>();

  const start = async (consumer: Consumer): Promise<void> => {
    const newLanes = () => {
      const fresh = createPartitionLanes(BATCHES_IN_FLIGHT, (partition, offset) => {
        // Fetched again from the failed batch on, so that a batch comes and the next push throws the failure.
        if (lanes === fresh && !stopping.signal.aborted)
          try {
            consumer.seek({ topic: config.topic, partition, offset });
          } catch {
            // The consumer stopped meanwhile: its successor starts from the committed offsets anyway.
          }
      });
      for (const old of generations) if (old.size() === 0) generations.delete(old);
      generations.add(fresh);
      lanes = fresh;
    };
    consumer.on(consumer.events.GROUP_JOIN, newLanes);
    newLanes();
    await consumer.connect();
    await consumer.subscribe({ topic: config.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_IN_FLIGHT,
      eachBatch: async ({
        batch,
        heartbeat: beat,
        resolveOffset,
        commitOffsetsIfNecessary,
        isRunning,
        isStale,
      }) => {
        const lost = (error: unknown) => {
          const failure = coordinatorFailure(error);
          if (failure instanceof CoordinatorLostError)
            log.info("kafka group coordinator lost; rejoining the group", { error: failure.message });
          return Promise.reject(failure);
        };
        const heartbeat = () => beat().catch(lost);
        const last = batch.messages.at(-1);
        const own = lanes;
        // A batch before this one failed: thrown here so that kafkajs rejoins or restarts, and fetches again
        // from the committed offsets.
        const failed = own.failure();
        if (failed !== undefined) throw failed;
        // Stopping: a batch taken now would be decoded only to be dropped unwritten at its first retry check.
        if (!last || !isRunning() || isStale() || stopping.signal.aborted) return;
        const messages: BusMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString("utf8") : null,
          value: m.value,
          headers: headersOf(m.headers),
        }));
        const next = (BigInt(last.offset) + 1n).toString();
        const highWatermark = BigInt(batch.highWatermark);
        const write = async () => {
          try {
            await handler(messages, { signal: stopping.signal, heartbeat });
          } catch (error) {
            if (error instanceof StoppedError) return; // stopping: leave the batch uncommitted for the next owner
            throw error;
          }
          // A rebalance or a stop since the fetch: the partition may be someone else's, and committing now would
          // be a lie.
          if (own !== lanes || !isRunning() || stopping.signal.aborted) return;
          // Not consumer.commitOffsets: it retries a lost coordinator for ~20 s before anything else happens.
          // A failed commit leaves the batch uncommitted; kafkajs fetches it again (the sinks are idempotent).
          await commitOffsetsIfNecessary({
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
          }).catch(lost);
          onCommitted?.(batch.partition, Math.max(0, Number(highWatermark - BigInt(next))));
          await heartbeat();
        };
        // The next fetch starts after this batch while it is written; only the commit waits for the write.
        resolveOffset(last.offset);
        await own.push(batch.partition, write, batch.firstOffset() ?? messages[0]?.offset ?? next);
      },
    });
  };

  // Only one replacement at a time; the uncommitted batches of the old consumer are fetched again.
  const replace = () => {
    replacing ??= retry(
      async () => {
        const next = create();
        current = next;
        try {
          await start(next);
        } catch (error) {
          await next.disconnect().catch(() => {});
          throw explainKafkaError(error, config, `consume ${config.topic}`);
        }
        log.info("kafka consumer replaced");
      },
      {
        retries: Number.POSITIVE_INFINITY,
        delayFor: (_error, attempt) => backoffDelay(attempt, REPLACE_BACKOFF),
        signal: stopping.signal,
        onRetry: ({ error, attempt, delayMs }) => {
          if (attempt === 1 || attempt % 10 === 0)
            log.warn("kafka consumer still down, retrying", {
              attempt,
              retryInMs: delayMs,
              error: describeError(error),
            });
        },
      },
    )
      .catch((error) => {
        if (!(error instanceof StoppedError))
          log.error("kafka consumer replacement failed", { error: describeError(error) });
      })
      .finally(() => {
        replacing = null;
      });
  };

  const first = create();
  current = first;
  try {
    await (signal ? unlessStopped(signal, start(first)) : start(first));
  } catch (error) {
    stopping.abort();
    // Leaving a group whose join is pending waits for the join: on a stop, let it finish unobserved.
    const leaving = first.disconnect().catch(() => {});
    if (signal?.aborted) throw stopReason(signal);
    await leaving;
    throw explainKafkaError(error, config, `subscribe to ${config.topic}`);
  }

  return {
    done,
    async stop() {
      stopping.abort(new StoppedError("unsubscribe"));
      await replacing;
      // The writes in flight end at their next retry wait; the sinks must not be closed under them.
      await Promise.all([...generations].map((generation) => generation.settled()));
      await current?.disconnect().catch(() => {});
      finish();
    },
  };
}
