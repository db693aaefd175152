import type { Kafka } from "kafkajs";
import { describeError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { retry, StoppedError, sleep } from "../../retry.ts";
import { explainKafkaError } from "./failures.ts";
import type { KafkaSettings } from "./settings.ts";

/** Consumer lag, sampled in the background: messages on the topic not yet committed by the group. */
export interface LagProbe {
  /** The last known lag, or null before the first sample or while sampling fails. */
  current(): number | null;
  /** Records a partition's lag right after a commit, between two samples (from the fetch's high watermark). */
  record(partition: number, lag: number): void;
  stop(): Promise<void>;
}

/**
 * Samples the group's lag every `everyMs` (default 15 s) with one admin connection: end offsets minus
 * committed offsets, summed over partitions; a failed sample is retried sooner (0.5 s, doubling). Commits
 * update their partition in between. Lag is for display, never for correctness; each sample doubles as the
 * consumer's health check of Kafka, told to `onHealth` (the explained error, or null when it answered).
 * @example const lag = startLagProbe(kafka, config.kafka, log, 15_000, (error) => …);
 */
export function startLagProbe(
  kafka: Kafka,
  config: KafkaSettings,
  log: Logger,
  everyMs = 15_000,
  onHealth: (error: Error | null) => void = () => {},
): LagProbe {
  const admin = kafka.admin();
  // Per partition, so that a commit can update its own partition without waiting for the next sample.
  let lags: Map<number, number> | null = null;
  // When each partition was last recorded by a commit: a sample that started earlier must not undo it.
  const recordedAt = new Map<number, number>();
  let connected: Promise<void> | null = null;
  const stopping = new AbortController();
  const sample = async () => {
    const started = performance.now();
    try {
      connected ??= admin.connect();
      await connected;
      const ends = await admin.fetchTopicOffsets(config.topic);
      const [committed] = await admin.fetchOffsets({ groupId: config.group, topics: [config.topic] });
      const sampled = new Map<number, number>();
      for (const end of ends) {
        const mine = committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? "-1";
        const from = mine === "-1" ? BigInt(end.low) : BigInt(mine);
        const fresher =
          (recordedAt.get(end.partition) ?? -1) > started ? lags?.get(end.partition) : undefined;
        sampled.set(
          end.partition,
          fresher ?? (BigInt(end.high) > from ? Number(BigInt(end.high) - from) : 0),
        );
      }
      lags = sampled;
      onHealth(null);
    } catch (error) {
      lags = null;
      connected = null;
      onHealth(explainKafkaError(error, config, "reach Kafka"));
      throw error;
    }
  };
  const loop = async () => {
    for (;;) {
      await retry(sample, {
        retries: Number.POSITIVE_INFINITY,
        delayFor: (_error, attempt) => Math.min(everyMs, 500 * 2 ** attempt),
        signal: stopping.signal,
        // The consumer warns once per outage through onHealth; each retry is only worth a debug line.
        onRetry: ({ error, attempt }) =>
          log.debug("could not sample consumer lag", { attempt, error: describeError(error) }),
      });
      await sleep(everyMs, stopping.signal);
    }
  };
  const running = loop().catch((error) => {
    if (!(error instanceof StoppedError)) log.warn("lag probe stopped", { error: describeError(error) });
  });
  return {
    current: () => (lags ? [...lags.values()].reduce((sum, lag) => sum + lag, 0) : null),
    record: (partition, lag) => {
      recordedAt.set(partition, performance.now());
      lags?.set(partition, lag);
    },
    async stop() {
      stopping.abort(new StoppedError("lag probe stop"));
      await running;
      await admin.disconnect().catch(() => {});
    },
  };
}
