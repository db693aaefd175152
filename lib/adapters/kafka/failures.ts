/**
 * What Kafka's failures mean, for the producer and consumer (BusError hints) and the doctor (FAIL fixes) alike:
 * which are worth another attempt (the broker is unreachable or slow) and which are a setting to fix.
 */
import { BusError, excerpt } from "../../errors.ts";
import type { KafkaSettings } from "./settings.ts";

/** Why a Kafka request failed. */
type KafkaFailureKind =
  | "mechanism"
  | "credentials"
  | "topic-acl"
  | "group-acl"
  | "cluster-acl"
  | "missing-topic"
  | "tls"
  | "unreachable"
  | "timeout";

/** A classified Kafka failure: what happened, whether trying again later may succeed, and the one-line fix. */
interface KafkaFailure {
  kind: KafkaFailureKind;
  /** What happened, e.g. "not authorized on the topic". */
  message: string;
  retriable: boolean;
  fix: string;
}

/** The doctor's ACL probe cannot ask: the broker is too old for the request, or kafkajs' internals changed. */
export class AclProbeError extends Error {
  override name = "AclProbeError";
}

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

/**
 * Says what a kafkajs error means, or undefined when it is none of the failures users run into.
 * @example classifyKafkaError(error, config.kafka)?.fix // "check KAFKA_BROKERS and that the broker is running"
 */
export function classifyKafkaError(error: unknown, config: KafkaSettings): KafkaFailure | undefined {
  const text = rootCauses(error)
    .map((e) => `${(e as Error)?.name ?? ""} ${(e as Error)?.message ?? String(e)}`)
    .join(" | ");
  const has = (type: string) => hasKafkaErrorType(error, type);
  const failure = (kind: KafkaFailureKind, message: string, fix: string, retriable = false) => ({
    kind,
    message,
    fix,
    retriable,
  });
  if (config.sasl && /mechanism is not supported/i.test(text))
    return failure(
      "mechanism",
      `the broker does not accept SASL mechanism ${config.sasl.mechanism.toUpperCase()}`,
      "set KAFKA_SASL_MECHANISM to one the cluster enables (scram-sha-256, scram-sha-512 or plain)",
    );
  if (/SASLAuthentication|Authentication failed|SASL .*authentication failed|SCRAM/i.test(text))
    return failure(
      "credentials",
      `Kafka rejected the credentials of user "${config.sasl?.username ?? ""}"`,
      "check KAFKA_PASSWORD, KAFKA_USERNAME and KAFKA_SASL_MECHANISM (Redpanda Cloud: SCRAM-SHA-256 or -512)",
    );
  if (has("TOPIC_AUTHORIZATION_FAILED"))
    return failure(
      "topic-acl",
      "not authorized on the topic",
      `grant the Kafka user WRITE (producer) or READ (consumer) on topic ${config.topic} and ${config.dlqTopic}`,
    );
  if (has("GROUP_AUTHORIZATION_FAILED"))
    return failure(
      "group-acl",
      "not authorized on the consumer group",
      `grant the Kafka user READ on group ${config.group}`,
    );
  if (has("CLUSTER_AUTHORIZATION_FAILED"))
    return failure(
      "cluster-acl",
      "not authorized on the cluster",
      "grant the Kafka user IDEMPOTENT_WRITE (or WRITE on the topic)",
    );
  if (has("UNKNOWN_TOPIC_OR_PARTITION"))
    return failure(
      "missing-topic",
      `topic ${config.topic} does not exist`,
      "create it, or check KAFKA_TOPIC",
    );
  if (/self[- ]signed|certificate|SSL|TLS|wrong version number|EPROTO/i.test(text))
    return failure(
      "tls",
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
    return failure(
      "unreachable",
      `cannot reach Kafka at ${config.brokers.join(",")}`,
      config.sasl && !config.ssl
        ? "check KAFKA_BROKERS; SASL brokers usually need KAFKA_SSL=true"
        : "check KAFKA_BROKERS and that the broker is running",
      true,
    );
  if (/KafkaJSRequestTimeout|timed out/i.test(text))
    return failure(
      "timeout",
      `Kafka at ${config.brokers.join(",")} did not answer in time`,
      "retry; if it persists, check the cluster's health and KAFKA_BROKERS",
      true,
    );
  return undefined;
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
