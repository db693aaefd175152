// End to end with local services: redis://, DATABASE_URL and Kafka over PLAINTEXT.
import { pipelineSuite } from "./support/pipeline-suite.ts";

pipelineSuite(
  "local services (PLAINTEXT Kafka, Bun's Redis client, Bun.sql)",
  async () => ({
    env: async ({ stack, databaseUrl, redisUrl }) => ({
      KAFKA_BROKERS: stack.kafka.plaintext,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
    }),
    stop: async () => {},
  }),
  7,
);
