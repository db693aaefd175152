// End to end with the production adapters a seed-style .env selects: Redpanda-like SASL_SSL SCRAM Kafka,
// Upstash (@upstash/redis) and Supabase (@supabase/supabase-js), the official clients unchanged, reaching
// the real Redis and Postgres through the test-only REST bridges.
import { pipelineSuite } from "./support/pipeline-suite.ts";
import { type PostgrestBridge, startPostgrestBridge } from "./support/postgrest-bridge.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";

const ANON_KEY = "anon-key-for-tests";
const SERVICE_ROLE_KEY = "service-role-key-for-tests";
const REDIS_TOKEN = "upstash-token-for-tests";

pipelineSuite(
  "seed-style production .env (SASL_SSL Kafka, Upstash, Supabase)",
  async () => {
    let upstash: UpstashBridge | undefined;
    let postgrest: PostgrestBridge | undefined;
    return {
      env: async ({ stack, databaseUrl, redisUrl }) => {
        const db = Number(new URL(redisUrl).pathname.slice(1));
        upstash = await startUpstashBridge({ redisUrl: stack.redisUrl, token: REDIS_TOKEN, db });
        postgrest = await startPostgrestBridge({
          databaseUrl,
          anonKey: ANON_KEY,
          serviceRoleKey: SERVICE_ROLE_KEY,
        });
        return {
          KAFKA_BROKERS: stack.kafka.saslSsl,
          KAFKA_USERNAME: stack.kafka.username,
          KAFKA_PASSWORD: stack.kafka.password,
          KAFKA_CA_FILE: stack.kafka.caFile,
          REDIS_URL: upstash.url,
          REDIS_TOKEN,
          SUPABASE_URL: postgrest.url,
          SUPABASE_ANON_KEY: ANON_KEY,
          SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
        };
      },
      stop: async () => {
        // Proof the seed-style .env selected the REST adapters: every write went through the bridges.
        const used = (upstash?.requests ?? 0) > 0 && (postgrest?.requests.length ?? 0) > 0;
        await upstash?.stop();
        await postgrest?.stop();
        if (!used) throw new Error("the Upstash and PostgREST bridges saw no request");
      },
    };
  },
  4,
);
