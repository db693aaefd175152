import type { StackInfo } from "./stack.ts";

/**
 * The environment of a consumer.ts on the local stack: PLAINTEXT Kafka, Postgres at `databaseUrl`, Redis
 * logical db `redisDb`, a free status port. `sessionTimeoutMs` is how long a killed member holds its
 * partitions (the broker's least is 6000).
 * @example const env = consumerEnv(stack, { topic, databaseUrl: db.url, redisDb: 7, sessionTimeoutMs: 10_000 });
 */
export function consumerEnv(
  stack: StackInfo,
  options: { topic: string; databaseUrl: string; redisDb: number; sessionTimeoutMs: number },
): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.kafka.plaintext,
    KAFKA_TOPIC: options.topic,
    KAFKA_CONSUMER_GROUP: `${options.topic}-group`,
    KAFKA_SESSION_TIMEOUT_MS: String(options.sessionTimeoutMs),
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: `${stack.redisUrl}/${options.redisDb}`,
    LOG_LEVEL: "info",
    PORT: "0",
  };
}

/** The same database URL with its port replaced, to reach it through a relay. */
export function throughPort(url: string, port: number): string {
  const relayed = new URL(url);
  relayed.port = String(port);
  return relayed.href;
}
