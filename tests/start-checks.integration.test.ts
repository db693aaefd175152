// A sink misconfigured before the consumer joins its group stops the start with one line naming the fix,
// before anything is consumed; a sink that is only down does not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { consumerEnv } from "./support/consumer-env.ts";
import { type PostgrestBridge, startPostgrestBridge } from "./support/postgrest-bridge.ts";
import { runEntry, startEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";

const REDIS_DB = 5;
const REDIS_TOKEN = "upstash-token-start-checks-1";
const ANON_KEY = "anon-key-start-checks-2";
const SERVICE_ROLE_KEY = "service-role-key-start-checks-3";

let stack: StackInfo;
let topic: string;
let db: { url: string; drop(): Promise<void> };
let migrated: { url: string; drop(): Promise<void> };
let upstash: UpstashBridge;
/** Supabase over the migrated database, and over the one without price_history. */
let supabase: PostgrestBridge;
let unmigratedSupabase: PostgrestBridge;

beforeAll(async () => {
  stack = await useStack();
  topic = await createTestTopic("start-checks", 1);
  // Never migrated: price_history does not exist there.
  db = await createTestDatabase("start-checks");
  migrated = await createTestDatabase("start-checks-migrated");
  await migratePostgres(migrated.url);
  upstash = await startUpstashBridge({ redisUrl: stack.redisUrl, token: REDIS_TOKEN, db: REDIS_DB });
  const keys = { anonKey: ANON_KEY, serviceRoleKey: SERVICE_ROLE_KEY };
  supabase = await startPostgrestBridge({ databaseUrl: migrated.url, ...keys });
  unmigratedSupabase = await startPostgrestBridge({ databaseUrl: db.url, ...keys });
}, 180_000);

afterAll(async () => {
  await upstash?.stop();
  await supabase?.stop();
  await unmigratedSupabase?.stop();
  await db?.drop();
  await migrated?.drop();
  await deleteTopics([topic, `${topic}.dlq`]).catch(() => {});
});

/**
 * A consumer configured the production way, Upstash cache and Supabase history, both right unless `overrides`
 * says otherwise.
 */
function productionEnv(overrides: Record<string, string>): Record<string, string> {
  const { DATABASE_URL: _direct, ...env } = consumerEnv(stack, {
    topic,
    databaseUrl: migrated.url,
    redisDb: REDIS_DB,
    sessionTimeoutMs: 6_000,
  });
  return {
    ...env,
    REDIS_URL: upstash.url,
    REDIS_TOKEN,
    SUPABASE_URL: supabase.url,
    SUPABASE_ANON_KEY: ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
    ...overrides,
  };
}

/** Runs a consumer that must refuse to start: exit 1, one plain `error:` line, nothing consumed, no secret. */
async function refusal(env: Record<string, string>, secrets: string[]): Promise<string[]> {
  const run = await runEntry("consumer.ts", env);
  expect(run.code, run.lines.join("\n")).toBe(1);
  expect(run.lines.some((line) => line.includes('"consumer started"'))).toBe(false);
  const output = run.lines.join("\n");
  for (const secret of secrets) expect(output).not.toContain(secret);
  return plainLines(run.lines);
}

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

  test("an Upstash URL whose host does not exist: exit 1 with one line naming REDIS_URL (UPSTASH_REDIS_REST_URL)", async () => {
    const env = productionEnv({ REDIS_URL: "https://no-such-host.invalid" });
    const lines = await refusal(env, [REDIS_TOKEN, SERVICE_ROLE_KEY, ANON_KEY]);
    expect(lines).toEqual([expect.stringMatching(/^error: cache: .*no-such-host\.invalid/)]);
    expect(lines[0]).toMatch(/fix: check REDIS_URL: .*UPSTASH_REDIS_REST_URL/);
  }, 60_000);

  test("an Upstash token the server rejects: exit 1 with one line naming REDIS_TOKEN, without the token", async () => {
    const wrong = "wrong-upstash-token-31337";
    const lines = await refusal(productionEnv({ REDIS_TOKEN: wrong }), [wrong, REDIS_TOKEN]);
    expect(lines).toEqual([expect.stringMatching(/^error: cache: .*Unauthorized/)]);
    expect(lines[0]).toMatch(/UPSTASH_REDIS_REST_TOKEN.* into REDIS_TOKEN/);
  }, 60_000);

  test("a Supabase key the server rejects: exit 1 with one line naming that key's variable, without the key", async () => {
    for (const name of ["SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_ANON_KEY"]) {
      const wrong = `wrong-${name.toLowerCase()}-4242`;
      const lines = await refusal(productionEnv({ [name]: wrong }), [wrong, ANON_KEY, SERVICE_ROLE_KEY]);
      expect(lines).toEqual([
        expect.stringMatching(new RegExp(`^error: history: .*Invalid API key.*check ${name}\\)$`)),
      ]);
    }
  }, 90_000);

  test("a Supabase URL whose host does not exist: exit 1 with one line naming SUPABASE_URL", async () => {
    const env = productionEnv({ SUPABASE_URL: "https://no-such-project.invalid" });
    const lines = await refusal(env, [ANON_KEY, SERVICE_ROLE_KEY, REDIS_TOKEN]);
    expect(lines).toEqual([
      expect.stringMatching(/^error: history: .*ENOTFOUND.*check SUPABASE_URL: its host does not exist/),
    ]);
  }, 60_000);

  test("a Supabase whose database has no price_history: exit 1 with one line naming bun run migrate", async () => {
    const env = productionEnv({ SUPABASE_URL: unmigratedSupabase.url });
    const lines = await refusal(env, [ANON_KEY, SERVICE_ROLE_KEY, REDIS_TOKEN]);
    expect(lines).toEqual([expect.stringMatching(/^error: history: .*price_history.*bun run migrate/)]);
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
