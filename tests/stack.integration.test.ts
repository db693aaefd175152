// Proves the local stack really serves what tests rely on: Kafka on both listeners with auth, Redis, Postgres.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RedisClient } from "bun";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import { KAFKA_VERSION } from "../scripts/stack/config.ts";
import { apiVersionRanges } from "./support/kafka.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";

/** A cold start downloads Kafka's jars and formats storage; a warm one takes well under a second. */
const STACK_TIMEOUT_MS = 300_000;

let stack: StackInfo;
const topics: string[] = [];

beforeAll(async () => {
  stack = await useStack();
}, STACK_TIMEOUT_MS);

afterAll(async () => {
  await deleteTopics(topics);
});

type Mechanism = "scram-sha-256" | "scram-sha-512" | "plain";

/** Client settings for the SASL_SSL listener, trusting only the stack's CA. Default: SCRAM-SHA-256 as belly. */
function saslSsl(
  password: string,
  mechanism: Mechanism = "scram-sha-256",
  username: string = stack.kafka.username,
): KafkaConfig {
  return {
    clientId: "belly-stack-test",
    brokers: [stack.kafka.saslSsl],
    ssl: { ca: [readFileSync(stack.kafka.caFile)] },
    sasl: { mechanism, username, password } as KafkaConfig["sasl"],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
  };
}

describe("Kafka", () => {
  test(`runs Apache Kafka ${KAFKA_VERSION} (BELLY_KAFKA_VERSION), which logged no config it does not know`, async () => {
    expect(stack.kafka.version).toBe(KAFKA_VERSION);
    // A long-lived broker's log may have rolled over (20 MB, two old files kept).
    const logs = join(stack.stateDir, "kafka", "logs");
    const log = ["server.log.2", "server.log.1", "server.log"]
      .filter((name) => existsSync(join(logs, name)))
      .map((name) => readFileSync(join(logs, name), "utf8"))
      .join("");
    expect(log).toContain(`Kafka version: ${KAFKA_VERSION} `);
    // AbstractConfig's words for a key the broker does not know: a removed config would show here.
    expect(log).not.toMatch(/were supplied but are not used|isn't a known config|is not a valid config/);
    // On the wire: Kafka 4 dropped the oldest versions of Fetch (v0-3), OffsetCommit (v0-1) and CreateTopics
    // (v0-1), all of which kafkajs sends (KIP-896); 3.x serves them from v0. kafkajs picks the highest
    // version both sides know, so it never asks for a dropped one.
    const ranges = await apiVersionRanges(stack.kafka.plaintext);
    const kafka4 = Number(KAFKA_VERSION.split(".")[0]) >= 4;
    const lowest = {
      fetch: ranges.get(1)?.min,
      offsetCommit: ranges.get(8)?.min,
      createTopics: ranges.get(19)?.min,
    };
    expect(lowest).toEqual(
      kafka4
        ? { fetch: 4, offsetCommit: 2, createTopics: 2 }
        : { fetch: 0, offsetCommit: 0, createTopics: 0 },
    );
  });

  test("PLAINTEXT: a produced message is consumed back", async () => {
    const topic = await createTestTopic("stack-plaintext");
    topics.push(topic);
    const kafka = new Kafka({
      clientId: "belly-stack-test",
      brokers: [stack.kafka.plaintext],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    await producer.connect();
    await consumer.connect();
    try {
      const value = `hello ${Date.now()}`;
      await producer.send({ topic, messages: [{ key: "k", value }] });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? "") });
      });
      const timeout = Bun.sleep(30_000).then(() => "(nothing within 30 s)");
      expect(await Promise.race([received, timeout])).toBe(value);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  }, 60_000);

  test("SASL_SSL with SCRAM-SHA-256 and the stack's CA lists topics", async () => {
    const admin = new Kafka(saslSsl(stack.kafka.password)).admin();
    await admin.connect();
    try {
      expect(Array.isArray(await admin.listTopics())).toBe(true);
    } finally {
      await admin.disconnect();
    }
  });

  test.each([
    ["scram-sha-512", "belly"],
    ["plain", "belly"],
    ["scram-sha-256", "admin"],
  ] as const)("SASL_SSL also accepts %s as %s", async (mechanism, user) => {
    const password = user === "admin" ? stack.kafka.adminPassword : stack.kafka.password;
    const admin = new Kafka(saslSsl(password, mechanism, user)).admin();
    await admin.connect();
    try {
      expect(Array.isArray(await admin.listTopics())).toBe(true);
    } finally {
      await admin.disconnect();
    }
  });

  test("SASL_SSL rejects a wrong password", async () => {
    const admin = new Kafka(saslSsl("not-the-password")).admin();
    const error = await admin.connect().then(
      () => null,
      (e: unknown) => e,
    );
    await admin.disconnect();
    expect((error as Error | null)?.name).toBe("KafkaJSSASLAuthenticationError");
  });
});

describe("Redis", () => {
  test("answers PING", async () => {
    const client = new RedisClient(stack.redisUrl);
    try {
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.close();
    }
  });
});

describe("Postgres", () => {
  test("runs select 1 as belly", async () => {
    const sql = new Bun.SQL(stack.databaseUrl);
    try {
      const [row] = await sql`select 1 as one, current_user as who`;
      expect(row).toEqual({ one: 1, who: "belly" });
    } finally {
      await sql.close();
    }
  });

  test("a test database is created empty and dropped", async () => {
    const db = await createTestDatabase("stack_check");
    const sql = new Bun.SQL(db.url);
    try {
      const [row] = await sql`select current_database() as name`;
      expect(row?.name).toBe(new URL(db.url).pathname.slice(1));
    } finally {
      await sql.close();
    }
    await db.drop();
    const admin = new Bun.SQL(stack.databaseUrl);
    try {
      const rows =
        await admin`select 1 from pg_database where datname = ${new URL(db.url).pathname.slice(1)}`;
      expect(rows).toHaveLength(0);
    } finally {
      await admin.close();
    }
  });
});
