import { openKafkaConsumerBus } from "../adapters/kafka/consumer-bus.ts";
import { createLocalBus } from "../adapters/local-bus/bus.ts";
import { localConsumerBus } from "../adapters/local-bus/consumer-bus.ts";
import type { Configs } from "../config.ts";
import { demoBackfill } from "../demo/backfill.ts";
import { createDemoSource } from "../demo/source.ts";
import type { Logger } from "../log.ts";
import { runProducerLoop } from "../pipeline/produce-loop.ts";
import { runStreamLoop } from "../pipeline/stream-loop.ts";
import { createTickGate } from "../pipeline/tick-gate.ts";
import type { ConsumerBus, DeadLetters, TickPublisher } from "../ports.ts";
import { openBus, openSource, openStream } from "./adapters.ts";
import { runConsumerService } from "./consumer-service.ts";
import { openCache, openHistory } from "./stores.ts";

/** How often the demo mode polls its demo source: often enough to watch the page move. */
const DEMO_INTERVAL_MS = 10_000;
/** Longest wait on stop for the consumer to take what the in-process bus still holds. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * The producer loop and the consumer in one process, for a laptop: Kafka when KAFKA_BROKERS is set, else an
 * in-process bus; the sinks chosen by config (SQLite and memory when nothing is configured). `demo` prices
 * from a built-in random walk instead of CoinGecko (lib/demo), with a day of backfill; its ticks say
 * `source: "demo"` and go to their own SQLite file, and the page carries a demo banner, so demo data never
 * passes for real prices.
 * @example await runAllInOne({ config, log, signal, demo: false });
 */
export async function runAllInOne(deps: {
  config: Configs["dev"];
  log: Logger;
  signal: AbortSignal;
  demo: boolean;
}): Promise<void> {
  const { log, signal, demo } = deps;
  const config = demo
    ? { ...deps.config, fetchIntervalMs: Math.min(deps.config.fetchIntervalMs, DEMO_INTERVAL_MS) }
    : deps.config;
  const demoSource = demo ? createDemoSource({ assets: config.assets, currencies: config.currencies }) : null;
  if (demoSource) log.warn("demo mode: prices come from a built-in random walk, not CoinGecko");

  let publisher: TickPublisher;
  // Where the price guard sends what it refuses: the DLQ with Kafka; without it the refusal is only logged.
  let deadLetters: DeadLetters | undefined;
  let bus: ConsumerBus;
  // What the in-process bus holds dies with the process, so on stop the consumer drains it first.
  let drained = async () => {};
  if (config.kafka) {
    const kafka = (await openBus(config.kafka, log)).publisher;
    publisher = kafka;
    deadLetters = kafka;
    bus = await openKafkaConsumerBus(config.kafka, log);
  } else {
    log.info("no KAFKA_BROKERS: producer and consumer share an in-process bus");
    const local = createLocalBus();
    publisher = local.publisher;
    bus = localConsumerBus(local, log);
    drained = async () => {
      for (let waited = 0; local.pending() > 0 && waited < DRAIN_TIMEOUT_MS; waited += 50)
        await Bun.sleep(50);
      if (local.pending() > 0) log.warn("stopped before the bus drained", { pending: local.pending() });
    };
  }
  const source = demoSource ?? openSource(config, log);
  const history = await openHistory(config.history, log, { demo });
  const cache = await openCache(config.cache, log);
  const intervalMs = config.fetchIntervalMs;
  // Through the bus like any tick, so the backfill is stored once however often the demo restarts.
  if (demoSource) await publisher.publish(demoBackfill(demoSource));
  // The demo's random walk has no stream; the rule and the guard apply to it as to CoinGecko.
  const stream = demoSource ? null : openStream(config, log);
  const { publishRule: rule, guard } = config;
  const gate = stream || rule || guard ? createTickGate({ rule, guard, deadLetters, log }) : undefined;
  const producer =
    stream && gate
      ? runStreamLoop({ stream, source, publisher, gate, log, signal, intervalMs, configured: config })
      : runProducerLoop({ source, publisher, log, signal, intervalMs, once: false, gate });
  // The consumer stops after the producer, once it has taken what the bus still holds.
  const consumerStop = new AbortController();
  const stopConsumer = () => void producer.finally(drained).finally(() => consumerStop.abort());
  signal.addEventListener("abort", stopConsumer, { once: true });
  const port = config.port;
  try {
    await Promise.all([
      producer,
      runConsumerService({
        bus,
        history,
        cache,
        log,
        signal: consumerStop.signal,
        port,
        host: config.host,
        // A flat price comes once per HEARTBEAT under a publishing rule: the page waits that long.
        fetchIntervalMs: Math.max(intervalMs, rule?.heartbeatMs ?? 0),
        demo,
        pairs: { assets: config.assets, currencies: config.currencies },
      }),
    ]);
  } finally {
    await publisher.close();
  }
}
