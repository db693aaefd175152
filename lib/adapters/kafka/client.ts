import { readFileSync } from "node:fs";
import { Kafka, type KafkaConfig as KafkaJsConfig, logLevel, type SASLOptions } from "kafkajs";
import { BusError, excerpt } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { explainKafkaError, hasKafkaErrorType } from "./failures.ts";
import type { KafkaSettings } from "./settings.ts";

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * Builds the kafkajs client from config: several brokers, SASL (PLAIN or SCRAM) and TLS with an optional CA.
 * kafkajs' own log lines (it logs warnings and errors, with stack traces, on every retry) go to our JSON logger
 * at debug, with their level in `kafkajsLevel`: each failure that matters reaches the user once, as the error
 * {@link explainKafkaError} makes of it.
 * @example const kafka = createKafka(config.kafka, log);
 */
export function createKafka(config: KafkaSettings, log: Logger): Kafka {
  const sasl: SASLOptions | undefined = config.sasl
    ? ({
        mechanism: config.sasl.mechanism,
        username: config.sasl.username,
        password: config.sasl.password,
      } as SASLOptions)
    : undefined;
  const ssl = config.ssl ? (config.caFile ? { ca: [readFileSync(config.caFile, "utf8")] } : true) : false;
  const options: KafkaJsConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    ssl,
    connectionTimeout: 5_000,
    authenticationTimeout: 10_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 5, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, timestamp: _t, logger: _l, ...rest } = entry;
        log.debug(`kafkajs: ${message}`, {
          kafkajsLevel: LEVELS[level] ?? "info",
          kafkajs: excerpt(rest, 300),
        });
      },
  };
  if (sasl) options.sasl = sasl;
  return new Kafka(options);
}

/**
 * Creates the topic and its dead-letter topic when they are missing (Redpanda Cloud may not auto-create them).
 * Without permission to create, it asks the user to create them.
 */
export async function ensureTopics(kafka: Kafka, config: KafkaSettings, log: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = [config.topic, config.dlqTopic].filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
      log.info("created topics", { topics: missing });
    } catch (error) {
      if (hasKafkaErrorType(error, "TOPIC_ALREADY_EXISTS")) return;
      throw new BusError(`topics ${missing.join(", ")} are missing and could not be created`, {
        cause: error,
        hint: `create ${missing.join(" and ")} in your Kafka console, or grant CREATE`,
      });
    }
  } catch (error) {
    throw explainKafkaError(error, config, "check topics");
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
