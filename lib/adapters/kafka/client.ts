import { readFileSync } from "node:fs";
import { Kafka, type KafkaConfig as KafkaJsConfig, logLevel, type SASLOptions } from "kafkajs";
import { BusError, excerpt } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import type { KafkaSettings } from "./settings.ts";

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * Builds the kafkajs client from config: several brokers, SASL (PLAIN or SCRAM) and TLS with an optional CA,
 * kafkajs' own logs routed (at warn and above) into our JSON logger.
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
        log[LEVELS[level] ?? "info"](`kafkajs: ${message}`, { kafkajs: excerpt(rest, 300) });
      },
  };
  if (sasl) options.sasl = sasl;
  return new Kafka(options);
}

/** Walks a kafkajs error and its causes for the first one that carries a code or a type we know. */
function rootCauses(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    chain.push(current);
    const next =
      (current as { cause?: unknown; originalError?: unknown }).originalError ??
      (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return chain;
}

/**
 * Turns a kafkajs error into a one-line {@link BusError} that says which setting to fix.
 * @example throw explainKafkaError(error, config, "publish to belly-price");
 */
export function explainKafkaError(error: unknown, config: KafkaSettings, doing: string): BusError {
  if (error instanceof BusError) return error;
  const chain = rootCauses(error);
  const text = chain
    .map((e) => `${(e as Error)?.name ?? ""} ${(e as Error)?.message ?? String(e)}`)
    .join(" | ");
  const types = chain.map((e) => String((e as { type?: string })?.type ?? ""));
  const brokers = config.brokers.join(",");
  const fail = (message: string, hint: string) =>
    new BusError(`${doing}: ${message}`, { cause: error, hint });

  if (/SASLAuthentication|Authentication failed|SASL .*authentication failed|SCRAM/i.test(text))
    return fail(
      `Kafka rejected the credentials of user "${config.sasl?.username ?? ""}"`,
      "check KAFKA_PASSWORD (and KAFKA_USERNAME, KAFKA_SASL_MECHANISM)",
    );
  if (types.includes("TOPIC_AUTHORIZATION_FAILED"))
    return fail(
      "not authorized on the topic",
      `grant the Kafka user WRITE (producer) or READ (consumer) on topic ${config.topic} and ${config.dlqTopic}`,
    );
  if (types.includes("GROUP_AUTHORIZATION_FAILED"))
    return fail("not authorized on the consumer group", `grant the Kafka user READ on group ${config.group}`);
  if (types.includes("CLUSTER_AUTHORIZATION_FAILED"))
    return fail(
      "not authorized on the cluster",
      "grant the Kafka user IDEMPOTENT_WRITE (or WRITE on the topic)",
    );
  if (types.includes("UNKNOWN_TOPIC_OR_PARTITION"))
    return fail(`topic ${config.topic} does not exist`, "create it, or check KAFKA_TOPIC");
  if (/self[- ]signed|certificate|SSL|TLS|wrong version number|EPROTO/i.test(text))
    return fail(
      "TLS handshake with the broker failed",
      config.ssl
        ? "check KAFKA_SSL and KAFKA_CA_FILE (the broker's certificate is not trusted)"
        : "the broker wants TLS: set KAFKA_SSL=true",
    );
  if (
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|Connection timeout|KafkaJSConnection|closed|ECONNRESET/i.test(
      text,
    )
  )
    return fail(
      `cannot reach Kafka at ${brokers}`,
      config.sasl && !config.ssl
        ? "check KAFKA_BROKERS; SASL brokers usually need KAFKA_SSL=true"
        : "check KAFKA_BROKERS and that the broker is running",
    );
  const last = chain[chain.length - 1];
  return fail(excerpt((last as Error)?.message ?? String(last)), "check the KAFKA_* settings");
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
      const types = rootCauses(error).map((e) => String((e as { type?: string })?.type ?? ""));
      if (types.includes("TOPIC_ALREADY_EXISTS")) return;
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
