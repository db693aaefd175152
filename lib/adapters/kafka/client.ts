import { readFileSync } from "node:fs";
import {
  type Admin,
  type AdminConfig,
  type Consumer,
  type ConsumerConfig,
  Kafka,
  type KafkaConfig as KafkaJsConfig,
  logLevel,
  type Producer,
  type ProducerConfig,
  type SASLOptions,
} from "kafkajs";
import { probeTcp, splitHostPort, type TcpProbe } from "../../checks/tcp.ts";
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

/** How long the first connect waits for a bootstrap broker's TCP answer before leaving the broker to kafkajs. */
const FIRST_REACH_TIMEOUT_MS = 2_000;

/** No bootstrap broker can be reached at all: each refused the connection or has a host name that does not exist. */
class BrokersUnreachableError extends Error {
  override name = "BrokersUnreachableError";
}

/**
 * Whether a failed probe settles that the broker is not there: nothing listens (ECONNREFUSED) or the host does
 * not exist (ENOTFOUND). A timeout or a temporary DNS failure (EAI_AGAIN) may pass, so kafkajs retries those.
 */
function settlesUnreachable(probe: TcpProbe): probe is Extract<TcpProbe, { ok: false }> {
  return !probe.ok && (probe.kind === "refused" || /ENOTFOUND|EAI_NONAME/.test(probe.detail));
}

/**
 * Resolves as soon as one bootstrap broker accepts TCP or leaves the question open (a timeout); throws a
 * {@link BrokersUnreachableError} naming each broker, in the order given, when every one of them settles as
 * unreachable. Default timeout 2 s per broker.
 * @example await checkBrokersReachable(["127.0.0.1:1"]) // throws "connect ECONNREFUSED 127.0.0.1:1"
 */
export function checkBrokersReachable(brokers: readonly string[], timeoutMs = FIRST_REACH_TIMEOUT_MS) {
  return new Promise<void>((resolve, reject) => {
    const failed: Extract<TcpProbe, { ok: false }>[] = [];
    brokers.forEach((broker, index) => {
      void probeTcp(splitHostPort(broker), timeoutMs).then((probe) => {
        if (!settlesUnreachable(probe)) return resolve();
        failed[index] = probe;
        if (failed.filter(Boolean).length < brokers.length) return;
        // The details name the host already ("connect ECONNREFUSED 127.0.0.1:1", "getaddrinfo ENOTFOUND b").
        reject(new BrokersUnreachableError(failed.map((p) => p.detail).join("; ")));
      });
    });
    if (brokers.length === 0) resolve();
  });
}

/**
 * A kafkajs client whose first connect (admin, producer or consumer alike) checks the bootstrap brokers with a
 * bare TCP connection first. kafkajs retries a refused connection for about 10 s, logging each attempt, before
 * the one line that names KAFKA_BROKERS; a wrong address should say so at once. Once a broker has answered,
 * connects go straight to kafkajs, so that outages of a running process are retried as before.
 */
class ReachCheckedKafka extends Kafka {
  #reached: Promise<void> | null = null;
  readonly #brokers: readonly string[];

  constructor(options: KafkaJsConfig & { brokers: string[] }) {
    super(options);
    this.#brokers = options.brokers;
  }

  override admin(config?: AdminConfig): Admin {
    return this.#checked(super.admin(config));
  }

  override producer(config?: ProducerConfig): Producer {
    return this.#checked(super.producer(config));
  }

  override consumer(config: ConsumerConfig): Consumer {
    return this.#checked(super.consumer(config));
  }

  #checked<T extends { connect(): Promise<void> }>(client: T): T {
    const connect = client.connect;
    client.connect = async () => {
      this.#reached ??= checkBrokersReachable(this.#brokers).catch((error: unknown) => {
        this.#reached = null; // the next connect checks again
        throw error;
      });
      await this.#reached;
      await connect();
    };
    return client;
  }
}

/**
 * Builds the kafkajs client from config: several brokers, SASL (PLAIN or SCRAM) and TLS with an optional CA.
 * kafkajs' own log lines (it logs warnings and errors, with stack traces, on every retry) go to our JSON logger
 * at debug, with their level in `kafkajsLevel`: each failure that matters reaches the user once, as the error
 * {@link explainKafkaError} makes of it. The first connect fails at once when no bootstrap broker is there.
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
  const options: KafkaJsConfig & { brokers: string[] } = {
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
  return new ReachCheckedKafka(options);
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
