/**
 * Kafka publish: our publisher (kafkajs idempotent producer, acks from all in-sync replicas, one request in
 * flight) against a plain kafkajs producer (not idempotent, acks=1) on the same broker, one producer cycle
 * of ticks awaited at a time, each on a fresh topic deleted afterwards.
 */
import { CompressionTypes, type Producer } from "kafkajs";
import { createKafka } from "../lib/adapters/kafka/client.ts";
import { createKafkaPublisher } from "../lib/adapters/kafka/publisher.ts";
import type { KafkaSettings as KafkaConfig } from "../lib/adapters/kafka/settings.ts";
import { silentLogger } from "../lib/log.ts";
import type { TickPublisher } from "../lib/ports.ts";
import { encodeTick, TICK_HEADERS, type Tick, tickKey } from "../lib/tick.ts";
import { createTestTopic, deleteTopics } from "../tests/support/stack.ts";
import type { Benchmark } from "./context.ts";
import { chunk, compare, interleaved, perSecond, rate, summarize, timeSteps } from "./measure.ts";
import { benchTicks } from "./ticks.ts";

const TICKS_PER_CYCLE = 6;
const CYCLES = 500;
const WARMUP_CYCLES = 25;
const PARTITIONS = 3;

function kafkaConfig(brokers: string, topic: string): KafkaConfig {
  return {
    brokers: [brokers],
    topic,
    dlqTopic: `${topic}-dlq`,
    group: "belly-bench",
    clientId: "belly-bench",
    sessionTimeoutMs: 30_000,
    sasl: null,
    ssl: false,
    caFile: null,
  };
}

/** The baseline as a TickPublisher: same client settings and message shape, only the producer differs. */
async function plainPublisher(config: KafkaConfig): Promise<TickPublisher> {
  const producer: Producer = createKafka(config, silentLogger).producer({
    idempotent: false,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return {
    async publish(ticks: Tick[]) {
      await producer.send({
        topic: config.topic,
        acks: 1,
        compression: CompressionTypes.None,
        messages: ticks.map((tick) => ({
          key: tickKey(tick),
          value: encodeTick(tick),
          headers: { ...TICK_HEADERS },
        })),
      });
    },
    close: () => producer.disconnect(),
  };
}

/** Kafka publish cycles, ours (idempotent, acks all) vs non-idempotent acks=1. */
export const kafkaPublish: Benchmark = {
  name: `Kafka publish (${CYCLES} cycles × ${TICKS_PER_CYCLE} ticks, PLAINTEXT)`,
  needs: ["kafka"],
  async run(ctx) {
    const brokers = ctx.stack.kafka.plaintext;
    const cycles = chunk(benchTicks(TICKS_PER_CYCLE * (WARMUP_CYCLES + CYCLES)), TICKS_PER_CYCLE);
    const warmup = cycles.slice(0, WARMUP_CYCLES);
    const measured = cycles.slice(WARMUP_CYCLES);

    /** A fresh topic, a warm-up, then the timed cycles; the topic is deleted before the next run. */
    const measure = async (label: string, connect: (config: KafkaConfig) => Promise<TickPublisher>) => {
      const topic = await createTestTopic(`bench-${label}`, PARTITIONS);
      const remove = ctx.defer(() => deleteTopics([topic]));
      const publisher = await connect(kafkaConfig(brokers, topic));
      const close = ctx.defer(() => publisher.close());
      try {
        // The warm-up also fetches metadata and opens the connection to each partition's leader.
        for (const cycle of warmup) await publisher.publish(cycle);
        const timed = await timeSteps(measured.length, (i) => publisher.publish(measured[i] as Tick[]));
        const cycleMs = summarize(timed.stepsMs);
        return {
          cyclesPerSecond: perSecond(CYCLES, timed.totalMs),
          cycleMedianMs: cycleMs.median,
          cycleP95Ms: cycleMs.p95,
        };
      } finally {
        await close();
        await remove();
      }
    };

    ctx.log("ours: createKafkaPublisher (idempotent, acks=all, 1 in flight)");
    ctx.log("baseline: kafkajs producer, not idempotent, acks=1; same client settings and messages");
    ctx.log(`a fresh ${PARTITIONS}-partition topic per run, deleted after it`);
    const rounds = await interleaved(
      {
        ours: () =>
          measure("ours", (config) => createKafkaPublisher(createKafka(config, silentLogger), config)),
        baseline: () => measure("plain", plainPublisher),
      },
      ctx.log,
      (m) => rate(m.cyclesPerSecond, "cycles/s"),
    );
    return [
      compare(rounds, "cyclesPerSecond", { benchmark: "Kafka publish", unit: "cycles/s", better: "higher" }),
      compare(rounds, "cycleMedianMs", {
        benchmark: "Kafka publish, cycle median",
        unit: "ms",
        better: "lower",
      }),
      compare(rounds, "cycleP95Ms", { benchmark: "Kafka publish, cycle p95", unit: "ms", better: "lower" }),
    ];
  },
};
