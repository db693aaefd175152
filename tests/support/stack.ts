/**
 * Test access to the local stack (Kafka, Redis, Postgres on 127.0.0.1), started on demand by the same code
 * as `bun run scripts/stack.ts up`, and helpers for per-test topics and databases.
 */
import { randomBytes } from "node:crypto";
import { Kafka, logLevel } from "kafkajs";
import type { Progress, StackInfo } from "../../scripts/stack/index.ts";
import { up } from "../../scripts/stack/index.ts";

export type { StackInfo } from "../../scripts/stack/index.ts";

let pending: Promise<StackInfo> | undefined;

/** Slow steps (downloads, first starts) are worth seeing in CI logs; a warm run prints nothing. */
const progress: Progress = (service, message) => process.stderr.write(`[stack] ${service}: ${message}\n`);

/**
 * Ensures Kafka, Redis and Postgres are up, starting only what is not already running, and returns how to
 * reach them. Memoised per process, so every test file can call it in `beforeAll`. A cold first start
 * (jar download, initdb, storage format) takes about a minute; give the hook a long timeout.
 */
export function useStack(): Promise<StackInfo> {
  pending ??= up({ progress }).then(
    (result) => result.info,
    (error) => {
      // Let a later caller retry instead of failing forever on the same rejected promise.
      pending = undefined;
      throw error;
    },
  );
  return pending;
}

/** A name no other test run uses: `<prefix>-<time>-<random>`, with characters Kafka and Postgres accept. */
function uniqueName(prefix: string, separator: string): string {
  const safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, separator)
    .slice(0, 40);
  return [safe, Date.now().toString(36), randomBytes(3).toString("hex")].join(separator);
}

/** A kafkajs admin on the PLAINTEXT listener, quiet and with few retries so that errors surface fast. */
async function withAdmin<T>(work: (admin: ReturnType<Kafka["admin"]>) => Promise<T>): Promise<T> {
  const { kafka } = await useStack();
  const admin = new Kafka({
    clientId: "belly-test-admin",
    brokers: [kafka.plaintext],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 100 },
  }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Creates a topic with a unique name starting with `prefix` and waits until the broker's metadata shows
 * every partition with a leader. Default: 3 partitions, replication factor 1.
 * @returns the topic name; pass it to {@link deleteTopics} in `afterAll`
 */
export async function createTestTopic(prefix: string, partitions = 3): Promise<string> {
  const topic = uniqueName(prefix, "-");
  await withAdmin(async (admin) => {
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const found = metadata?.topics.find((t) => t.name === topic);
      if (found?.partitions.length === partitions && found.partitions.every((p) => p.leader >= 0)) return;
      await Bun.sleep(100);
    }
    throw new Error(`topic ${topic}: metadata did not show ${partitions} partitions with leaders within 15s`);
  });
  return topic;
}

/** Deletes topics made by {@link createTestTopic}; names that do not exist are ignored. */
export async function deleteTopics(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const topics = names.filter((name) => existing.has(name));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  });
}

/** A database made for one test file. */
export interface TestDatabase {
  /** Connection URL of the new database, as the `belly` role. */
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database with a unique name starting with `prefix`, owned by `belly`, so a test file
 * works on its own schema and data and can run beside others.
 */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  return createDatabaseBeside((await useStack()).databaseUrl, prefix);
}

/**
 * Creates an empty database with a unique name beside the one in `databaseUrl`, without touching the rest
 * of the stack (the benchmarks use it so that a Kafka that is down never delays a Postgres measurement).
 */
export async function createDatabaseBeside(databaseUrl: string, prefix: string): Promise<TestDatabase> {
  const name = uniqueName(prefix, "_");
  const admin = new Bun.SQL(databaseUrl, { max: 1 });
  try {
    // Identifiers cannot be bound parameters; the name is built from [a-z0-9_] only.
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.close();
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = new Bun.SQL(databaseUrl, { max: 1 });
      try {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await sql.close();
      }
    },
  };
}
