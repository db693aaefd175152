import { createCoinGeckoChart } from "../adapters/coingecko/chart.ts";
import { COINGECKO_CALLS_PER_MINUTE, coingeckoRoot } from "../adapters/coingecko/settings.ts";
import { createCoinGeckoSource, pollRequestCount } from "../adapters/coingecko/source.ts";
import { createCoinGeckoStream } from "../adapters/coingecko/stream-source.ts";
import { createKafka, ensureTopics } from "../adapters/kafka/client.ts";
import { createKafkaPublisher } from "../adapters/kafka/publisher.ts";
import type { KafkaSettings } from "../adapters/kafka/settings.ts";
import { createTopicTail } from "../adapters/kafka/topic-tail.ts";
import type { Configs } from "../config.ts";
import type { Logger } from "../log.ts";
import type { ChartSource, PriceSource, PriceStream, PublishedTail } from "../ports.ts";
import { createRequestBudget, type RequestBudget } from "../request-budget.ts";

/**
 * The process's one CoinGecko request budget: COINGECKO_CALLS_PER_MINUTE, or the plan's default. When the
 * process polls (`polls`, default true) it keeps one call per /simple/price chunk of a poll free of backfill,
 * so that the poll never waits behind it; `--backfill` alone may spend them all.
 */
export function openBudget(config: Configs["producer" | "dev"], polls = true): RequestBudget {
  const { plan, baseUrl } = config.coingecko;
  return createRequestBudget({
    callsPerMinute: config.coingecko.callsPerMinute ?? COINGECKO_CALLS_PER_MINUTE[plan],
    reserveForLive: polls
      ? pollRequestCount(coingeckoRoot(plan, baseUrl), config.assets, config.currencies)
      : 0,
  });
}

/** CoinGecko's price history (market_chart/range), spending the poll's `budget` behind the poll. */
export function openChart(config: Configs["producer"], log: Logger, budget: RequestBudget): ChartSource {
  return createCoinGeckoChart({
    ...config.coingecko,
    log: log.child({ component: "coingecko-chart" }),
    budget,
  });
}

/** The CoinGecko source for the configured assets, currencies, plan and key, spending `budget` (default its own). */
export function openSource(
  config: Configs["producer" | "dev"],
  log: Logger,
  budget: RequestBudget = openBudget(config),
): PriceSource {
  return createCoinGeckoSource({
    ...config.coingecko,
    assets: config.assets,
    currencies: config.currencies,
    log: log.child({ component: "coingecko" }),
    budget,
  });
}

/** CoinGecko's price stream when COINGECKO_STREAM is on (pro plan, so a key), else null. */
export function openStream(config: Configs["producer" | "dev"], log: Logger): PriceStream | null {
  if (!config.stream) return null;
  return createCoinGeckoStream({
    url: config.stream.url,
    apiKey: config.coingecko.apiKey ?? "",
    assets: config.assets,
    currencies: config.currencies,
    log: log.child({ component: "coingecko-stream" }),
  });
}

/** Connects the Kafka publisher (which also writes dead letters), creating missing topics first. */
export async function openBus(kafkaConfig: KafkaSettings, log: Logger) {
  const kafka = createKafka(kafkaConfig, log.child({ component: "kafka" }));
  await ensureTopics(kafka, kafkaConfig, log);
  const publisher = await createKafkaPublisher(kafka, kafkaConfig);
  return { kafka, publisher };
}

/** The topic's tail (newest tick per pair) through the producer's Kafka client. */
export function openTail(kafka: ReturnType<typeof createKafka>, settings: KafkaSettings): PublishedTail {
  return createTopicTail(kafka, settings);
}
