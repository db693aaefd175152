/**
 * What Kafka's failures mean, for the producer and consumer (BusError) and the doctor (FAIL lines) alike: an
 * unreachable or slow broker is worth another attempt; credentials, ACLs, TLS and a missing topic are settings.
 */
import { BusError, excerpt, type Failure } from "../../errors.ts";
import type { KafkaSettings } from "./settings.ts";

/** The doctor's ACL probe cannot ask: the broker is too old for the request, or kafkajs' internals changed. */
export class AclProbeError extends Error {
  override name = "AclProbeError";
}

/** What happened, and the fix, per kind of failure. */
const explanations = (config: KafkaSettings, broker?: string) =>
  ({
    mechanism: [
      `the broker does not accept SASL mechanism ${config.sasl?.mechanism.toUpperCase()}`,
      "set KAFKA_SASL_MECHANISM to one the cluster enables (scram-sha-256, scram-sha-512 or plain)",
    ],
    credentials: [
      `Kafka rejected the credentials of user "${config.sasl?.username ?? ""}"`,
      "check KAFKA_PASSWORD, KAFKA_USERNAME and KAFKA_SASL_MECHANISM (Redpanda Cloud: SCRAM-SHA-256 or -512)",
    ],
    "topic-acl": [
      "not authorized on the topic",
      `grant the Kafka user WRITE (producer) or READ (consumer) on topic ${config.topic} and ${config.dlqTopic}`,
    ],
    "group-acl": [
      "not authorized on the consumer group",
      `grant the Kafka user READ on group ${config.group}`,
    ],
    "cluster-acl": [
      "not authorized on the cluster",
      "grant the Kafka user IDEMPOTENT_WRITE (or WRITE on the topic)",
    ],
    "missing-topic": [`topic ${config.topic} does not exist`, "create it, or check KAFKA_TOPIC"],
    tls: [
      "TLS handshake with the broker failed",
      config.ssl
        ? "check KAFKA_SSL and KAFKA_CA_FILE (the broker's certificate is not trusted)"
        : "the broker wants TLS: set KAFKA_SSL=true",
    ],
    unreachable: [
      // One broker of a cluster away is not the same news as none of them: name it when kafkajs says which.
      broker
        ? `cannot reach Kafka broker ${broker}${config.brokers.includes(broker) ? "" : ` (an address the cluster advertises; bootstrap ${config.brokers.join(",")})`}`
        : `cannot reach Kafka at ${config.brokers.join(",")}`,
      config.sasl && !config.ssl
        ? "check KAFKA_BROKERS; SASL brokers usually need KAFKA_SSL=true"
        : "check KAFKA_BROKERS and that the broker is running",
    ],
    timeout: [
      `Kafka at ${config.brokers.join(",")} did not answer in time`,
      "retry; if it persists, check the cluster's health and KAFKA_BROKERS",
    ],
  }) as const;

type KafkaFailureKind = keyof ReturnType<typeof explanations>;

const UNREACHABLE =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|Connection timeout|KafkaJSConnection|BrokersUnreachable|closed|ECONNRESET/i;

/** A kafkajs error and its causes, outermost first (kafkajs nests them in `originalError`, others in `cause`). */
function rootCauses(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    chain.push(current);
    const next =
      (current as { originalError?: unknown }).originalError ?? (current as { cause?: unknown }).cause;
    if (next === current) break;
    current = next;
  }
  return chain;
}

/** Whether the error or one of its causes carries one of these protocol error types, e.g. "TOPIC_ALREADY_EXISTS". */
export function hasKafkaErrorType(error: unknown, ...types: string[]): boolean {
  return rootCauses(error).some((e) => types.includes(String((e as { type?: unknown })?.type)));
}

function kindOf(error: unknown, config: KafkaSettings): KafkaFailureKind | undefined {
  const text = rootCauses(error)
    .map((e) => `${(e as Error)?.name ?? ""} ${(e as Error)?.message ?? String(e)}`)
    .join(" | ");
  const has = (type: string) => hasKafkaErrorType(error, type);
  if (config.sasl && /mechanism is not supported/i.test(text)) return "mechanism";
  if (/SASLAuthentication|Authentication failed|SASL .*authentication failed|SCRAM/i.test(text))
    return "credentials";
  if (has("TOPIC_AUTHORIZATION_FAILED")) return "topic-acl";
  if (has("GROUP_AUTHORIZATION_FAILED")) return "group-acl";
  if (has("CLUSTER_AUTHORIZATION_FAILED")) return "cluster-acl";
  if (has("UNKNOWN_TOPIC_OR_PARTITION")) return "missing-topic";
  if (/self[- ]signed|certificate|SSL|TLS|wrong version number|EPROTO/i.test(text)) return "tls";
  if (UNREACHABLE.test(text)) return "unreachable";
  if (/KafkaJSRequestTimeout|timed out/i.test(text)) return "timeout";
  return undefined;
}

/**
 * Says what a kafkajs error means (`message`: what happened), or undefined when it is none of the failures users
 * run into. Only an unreachable or slow broker is retriable.
 * @example classifyKafkaError(error, config.kafka)?.fix // "check KAFKA_BROKERS and that the broker is running"
 */
export function classifyKafkaError(
  error: unknown,
  config: KafkaSettings,
): (Failure<KafkaFailureKind> & { message: string }) | undefined {
  const kind = kindOf(error, config);
  if (!kind) return undefined;
  const broker = rootCauses(error)
    .map((e) => (e as { broker?: unknown })?.broker)
    .find((b): b is string => typeof b === "string" && b.length > 0);
  const [message, fix] = explanations(config, broker)[kind];
  return { kind, message, fix, retriable: kind === "unreachable" || kind === "timeout" };
}

/**
 * Turns a kafkajs error into a one-line {@link BusError} that says which setting to fix and whether retrying
 * may help; a BusError passes through unchanged.
 * @example throw explainKafkaError(error, config, "publish to belly-price");
 */
export function explainKafkaError(error: unknown, config: KafkaSettings, doing: string): BusError {
  if (error instanceof BusError) return error;
  const failure = classifyKafkaError(error, config);
  const last = rootCauses(error).at(-1);
  const what = failure?.message ?? excerpt((last as Error)?.message ?? String(last));
  return new BusError(`${doing}: ${what}`, {
    cause: error,
    hint: failure?.fix ?? "check the KAFKA_* settings",
    retriable: failure?.retriable,
  });
}

/**
 * Whether the broker refused a produce because a message or batch exceeds the topic's `max.message.bytes`
 * (MESSAGE_TOO_LARGE, Java's RecordTooLargeException) or the segment size (RECORD_LIST_TOO_LARGE); sending
 * the same again fails again, so the caller sends less instead.
 */
export function isTooLargeForTopic(error: unknown): boolean {
  return hasKafkaErrorType(error, "MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE");
}
