import { readFileSync } from "node:fs";
import {
  type Admin,
  type AdminConfig,
  ConfigResourceTypes,
  ConfigSource,
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
import { sleep } from "../../retry.ts";
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
 * Whether a failed probe settles that the broker cannot be used: nothing listens (ECONNREFUSED), the host does
 * not exist (ENOTFOUND), or its TLS certificate is not trusted or names another host, which no retry changes.
 * A timeout or a temporary DNS failure (EAI_AGAIN) may pass, so kafkajs retries those.
 */
function settlesUnreachable(probe: TcpProbe): probe is Extract<TcpProbe, { ok: false }> {
  if (probe.ok) return false;
  if (probe.kind === "refused" || probe.kind === "tls-untrusted" || probe.kind === "tls-name") return true;
  return /ENOTFOUND|EAI_NONAME/.test(probe.detail);
}

/** How the first probe reaches the brokers: over TLS (with the configured CA, if any) when KAFKA_SSL is on. */
export interface ReachOptions {
  /** Default 2 s per broker. */
  timeoutMs?: number;
  /** Shake hands as kafkajs will, so that an untrusted certificate is told at once; off by default. */
  tls?: { ca?: string } | null;
}

/**
 * Resolves as soon as one bootstrap broker accepts TCP (and TLS, with `tls`) or leaves the question open (a
 * timeout); throws a {@link BrokersUnreachableError} naming each broker, in the order given, when every one of
 * them settles as unusable. Default timeout 2 s per broker, no TLS.
 * @example await checkBrokersReachable(["127.0.0.1:1"]) // throws "connect ECONNREFUSED 127.0.0.1:1"
 */
export function checkBrokersReachable(brokers: readonly string[], options: ReachOptions = {}) {
  const timeoutMs = options.timeoutMs ?? FIRST_REACH_TIMEOUT_MS;
  const tls = options.tls ? { tls: true, ...(options.tls.ca ? { ca: options.tls.ca } : {}) } : {};
  return new Promise<void>((resolve, reject) => {
    const failed: Extract<TcpProbe, { ok: false }>[] = [];
    brokers.forEach((broker, index) => {
      void probeTcp({ ...splitHostPort(broker), ...tls }, timeoutMs).then((probe) => {
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
 * bare TCP connection (a TLS handshake when KAFKA_SSL is on) first. kafkajs retries a refused connection or an
 * untrusted certificate for about 10 s, logging each attempt, before the one line that names KAFKA_BROKERS or
 * KAFKA_CA_FILE; a wrong address or CA should say so at once. Once a broker has answered,
 * connects go straight to kafkajs, so that outages of a running process are retried as before.
 */
class ReachCheckedKafka extends Kafka {
  #reached: Promise<void> | null = null;
  readonly #brokers: readonly string[];
  readonly #reach: ReachOptions;

  constructor(options: KafkaJsConfig & { brokers: string[] }) {
    super(options);
    this.#brokers = options.brokers;
    const { ssl } = options;
    const ca = typeof ssl === "object" && Array.isArray(ssl.ca) ? ssl.ca.map(String).join("\n") : undefined;
    this.#reach = { tls: ssl ? (ca ? { ca } : {}) : null };
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
      this.#reached ??= checkBrokersReachable(this.#brokers, this.#reach).catch((error: unknown) => {
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

/** Topic config bounding a record batch, and so the largest message, the topic accepts. */
const MAX_MESSAGE_BYTES = "max.message.bytes";
/** Room a dead letter needs beyond the message it carries (dlq-* headers, record framing): 64 KiB. */
const DLQ_HEADROOM_BYTES = 64 * 1024;

/**
 * Creates the topic and its dead-letter topic when they are missing (Redpanda Cloud may not auto-create them).
 * Without permission to create, it asks the user to create them. The DLQ must take any message the topic
 * takes, so it is created with the topic's `max.message.bytes` plus 64 KiB for the dead-letter headers, and an
 * existing DLQ with less is raised; when that is not allowed it logs a warning naming the fix (meanwhile the
 * publisher sends such poison as an envelope). Failing to read or change the limits never fails the start.
 */
export async function ensureTopics(kafka: Kafka, config: KafkaSettings, log: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = [config.topic, config.dlqTopic].filter((topic) => !existing.has(topic));
    const create = async (topic: string, configEntries?: { name: string; value: string }[]) => {
      let created = true;
      try {
        // kafkajs' own wait for leaders gives up at the first "does not host this topic-partition", which a
        // broker answers until the new topic's metadata reaches it: a fresh multi-broker cluster does.
        await admin.createTopics({ topics: [{ topic, configEntries }], waitForLeaders: false });
        log.info("created topics", { topics: [topic], ...(configEntries ? { config: configEntries } : {}) });
      } catch (error) {
        if (!hasKafkaErrorType(error, "TOPIC_ALREADY_EXISTS"))
          throw new BusError(`topics ${missing.join(", ")} are missing and could not be created`, {
            cause: error,
            hint: `create ${missing.join(" and ")} in your Kafka console, or grant CREATE`,
          });
        created = false;
      }
      await waitForLeaders(admin, topic);
      return created;
    };
    // The topic first, so that its limit can be read and given to a DLQ created after it.
    if (!existing.has(config.topic)) await create(config.topic);
    else await waitForLeaders(admin, config.topic); // made a moment ago by another process, maybe
    const sourceLimit = (await topicConfigs(admin, config.topic, log))?.get(MAX_MESSAGE_BYTES);
    const wanted = sourceLimit === undefined ? undefined : Number(sourceLimit) + DLQ_HEADROOM_BYTES;
    const dlqConfig =
      wanted !== undefined && Number.isSafeInteger(wanted)
        ? [{ name: MAX_MESSAGE_BYTES, value: String(wanted) }]
        : undefined;
    // A DLQ someone else created meanwhile is checked like one that existed before.
    if (!existing.has(config.dlqTopic) && (await create(config.dlqTopic, dlqConfig))) return;
    if (wanted !== undefined && dlqConfig) await raiseDlqLimit(admin, config, wanted, log);
  } catch (error) {
    throw explainKafkaError(error, config, "check topics");
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** How long a new topic may take to have a leader on every partition; a fresh 3-broker cluster needs seconds. */
const LEADERS_TIMEOUT_MS = 60_000;
/** Answers that mean "not yet" while a new topic's partitions get their leaders. */
const NOT_YET = ["UNKNOWN_TOPIC_OR_PARTITION", "LEADER_NOT_AVAILABLE", "NOT_LEADER_OR_FOLLOWER"];

/**
 * Waits until every partition of `topic` has a leader, as the metadata of the brokers says, so that what comes
 * next (reading its configs, creating its DLQ, joining the group) finds it. Default: up to 60 s.
 */
export async function waitForLeaders(
  admin: Admin,
  topic: string,
  timeoutMs = LEADERS_TIMEOUT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "no metadata yet";
  for (let attempt = 1; ; attempt++) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics.find((t) => t.name === topic)?.partitions ?? [];
      const leaderless = partitions.filter((p) => p.leader < 0 || p.partitionErrorCode !== 0);
      if (partitions.length > 0 && leaderless.length === 0) return;
      last = `${leaderless.length} of ${partitions.length} partitions without a leader`;
    } catch (error) {
      if (!hasKafkaErrorType(error, ...NOT_YET)) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    if (performance.now() >= deadline)
      throw new BusError(`topic ${topic} still has no leader after ${timeoutMs / 1000} s: ${last}`, {
        hint: "check that every broker of the cluster runs and that the topic's replicas are in sync",
      });
    await sleep(Math.min(1_000, 100 * attempt));
  }
}

/**
 * The topic's own config overrides plus `max.message.bytes` whatever its source, by name; undefined (after a
 * warning) when the broker does not say, e.g. without DESCRIBE_CONFIGS on the topic.
 */
async function topicConfigs(
  admin: Admin,
  topic: string,
  log: Logger,
): Promise<Map<string, string> | undefined> {
  try {
    const { resources } = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: false,
    });
    const resource = resources.find((r) => r.resourceName === topic);
    if (resource?.errorCode !== 0)
      throw new Error(resource?.errorMessage || `no configs returned for ${topic}`);
    const configs = new Map<string, string>();
    for (const entry of resource.configEntries)
      if (entry.configName === MAX_MESSAGE_BYTES || entry.configSource === ConfigSource.TOPIC_CONFIG)
        if (entry.configValue !== null && !entry.isSensitive)
          configs.set(entry.configName, entry.configValue);
    return configs;
  } catch (error) {
    log.warn(
      "cannot read a topic's config; the DLQ may refuse large poison, which then goes as an envelope",
      {
        topic,
        error: excerpt(error instanceof Error ? error.message : String(error)),
        fix: `grant DESCRIBE_CONFIGS on topic ${topic}`,
      },
    );
    return undefined;
  }
}

/** Raises the DLQ's `max.message.bytes` to `wanted` when it is lower, or warns with the fix when not allowed. */
async function raiseDlqLimit(
  admin: Admin,
  config: KafkaSettings,
  wanted: number,
  log: Logger,
): Promise<void> {
  const topic = config.dlqTopic;
  const configs = await topicConfigs(admin, topic, log);
  const current = Number(configs?.get(MAX_MESSAGE_BYTES));
  if (!configs || !Number.isFinite(current) || current >= wanted) return;
  try {
    // AlterConfigs (the only form kafkajs speaks) replaces every override of the topic: send the others back
    // unchanged, or raising one limit would reset, say, the DLQ's retention to the broker default.
    const overrides = new Map(configs);
    overrides.set(MAX_MESSAGE_BYTES, String(wanted));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [...overrides].map(([name, value]) => ({ name, value })),
        },
      ],
    });
    log.info("raised the DLQ's max.message.bytes above its topic's", { topic, from: current, to: wanted });
  } catch (error) {
    log.warn("the DLQ takes smaller messages than its topic; larger poison goes to it as an envelope", {
      topic,
      maxMessageBytes: current,
      topicMaxMessageBytes: wanted - DLQ_HEADROOM_BYTES,
      error: excerpt(error instanceof Error ? error.message : String(error)),
      fix: `set max.message.bytes=${wanted} on topic ${topic} (kafka-configs.sh --alter --entity-type topics --entity-name ${topic} --add-config max.message.bytes=${wanted}, or rpk topic alter-config ${topic} --set max.message.bytes=${wanted}), or grant ALTER_CONFIGS on it`,
    });
  }
}
