// A sink misconfigured before the consumer joins its group stops the start with one line naming the fix,
// before anything is consumed; a sink that is only down does not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { consumerEnv } from "./support/consumer-env.ts";
import { runEntry, startEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";

let stack: StackInfo;
let topic: string;
let db: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  stack = await useStack();
  topic = await createTestTopic("start-checks", 1);
  // Never migrated: price_history does not exist there.
  db = await createTestDatabase("start-checks");
}, 180_000);

afterAll(async () => {
  await db?.drop();
  await deleteTopics([topic, `${topic}.dlq`]).catch(() => {});
});

const plainLines = (lines: string[]) => lines.filter((line) => !line.startsWith("{"));

describe("consumer start-up checks of the sinks", () => {
  test("a database without price_history: exit 1 with one line naming bun run migrate", async () => {
    const env = consumerEnv(stack, { topic, databaseUrl: db.url, redisDb: 5, sessionTimeoutMs: 6_000 });
    const run = await runEntry("consumer.ts", env);
    expect(run.code).toBe(1);
    expect(plainLines(run.lines)).toEqual([expect.stringMatching(/^error: history: .*bun run migrate/)]);
    expect(run.lines.some((line) => line.includes('"consumer started"'))).toBe(false);
  }, 60_000);

  test("a wrong database password: exit 1 with one line naming DATABASE_URL, without the password", async () => {
    const wrong = new URL(db.url);
    wrong.password = "not-the-password-42";
    const env = consumerEnv(stack, { topic, databaseUrl: wrong.href, redisDb: 5, sessionTimeoutMs: 6_000 });
    const run = await runEntry("consumer.ts", env);
    expect(run.code).toBe(1);
    expect(plainLines(run.lines)).toEqual([expect.stringMatching(/^error: history: .*DATABASE_URL/)]);
    expect(run.lines.join("\n")).not.toContain("not-the-password-42");
  }, 60_000);

  test("a Redis that is only down: the consumer starts anyway and says so", async () => {
    await migratePostgres(db.url);
    const env = {
      ...consumerEnv(stack, { topic, databaseUrl: db.url, redisDb: 5, sessionTimeoutMs: 6_000 }),
      REDIS_URL: "redis://127.0.0.1:1",
    };
    const consumer = startEntry("consumer.ts", env);
    try {
      await waitFor(
        "the consumer to start",
        () => consumer.logs().some((l) => l.msg === "consumer started"),
        60_000,
      );
      expect(
        consumer
          .logs()
          .some((l) => l.msg === "sink does not answer at start; consuming anyway, writes are retried"),
      ).toBe(true);
    } finally {
      consumer.proc.kill("SIGTERM");
      expect(await consumer.exited).toBe(0);
    }
  }, 90_000);
});
