// The compiled executable on the real stack: built by scripts/build.ts, copied alone into an empty directory (no
// node_modules, no sources, no .env), then fake CoinGecko -> `belly producer` -> Kafka -> `belly consumer` ->
// Postgres + Redis, and `belly migrate` and `belly doctor`. Prints start-up timings against `bun run` to stderr.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient, SQL, type Subprocess } from "bun";
import type { Kafka } from "kafkajs";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { latestKey } from "../lib/adapters/redis/latest-script.ts";
import type { Tick } from "../lib/tick.ts";
import { ROLES } from "../scripts/belly.ts";
import { type BuiltBinary, buildBinaries } from "../scripts/build.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { readTopic, testKafka } from "./support/kafka.ts";
import { runEntry, startEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  useStack,
} from "./support/stack.ts";

const ASSETS = ["beldex", "bitcoin", "ethereum"];
const CURRENCIES = ["usd", "eur"];
const PAIRS = ASSETS.length * CURRENCIES.length;

let buildDir: string;
let runDir: string;
let built: BuiltBinary[];
let stack: StackInfo;
let fake: FakeCoinGecko;
let kafka: Kafka;
let topic: string;
let db: { url: string; drop(): Promise<void> };
let sql: SQL;
let redis: RedisClient;
let env: Record<string, string>;
const running: Subprocess[] = [];

/** The executable, in `role`, started from the empty run directory with exactly `env`: no PATH, no HOME. */
function startBinary(role: string, processEnv: Record<string, string>, args: string[] = []) {
  const started = performance.now();
  const proc = Bun.spawn([join(runDir, "belly"), role, ...args], {
    cwd: runDir,
    env: processEnv,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.push(proc);
  const lines: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts.filter(Boolean));
    }
    if (rest) lines.push(rest);
  };
  const exited = Promise.all([collect(proc.stdout), collect(proc.stderr)]).then(() => proc.exited);
  const logs = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  return { proc, lines, exited, logs, started };
}

/** Milliseconds from spawn to exit of `bun run <entry>` or of a binary, for the timing report. */
async function timed(run: () => Promise<{ code: number }>): Promise<{ code: number; ms: number }> {
  const started = performance.now();
  const { code } = await run();
  return { code, ms: Math.round(performance.now() - started) };
}

async function runBinary(role: string, processEnv: Record<string, string>, args: string[] = []) {
  const child = startBinary(role, processEnv, args);
  const code = await child.exited;
  return { code, lines: child.lines, logs: child.logs() };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
/** Resident memory of a process in MB, from /proc (Linux only; "?" elsewhere). */
async function residentMb(pid: number): Promise<string> {
  const status = await Bun.file(`/proc/${pid}/status`)
    .text()
    .catch(() => "");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return kb ? (Number(kb) / 1024).toFixed(0) : "?";
}

const report = (line: string) => process.stderr.write(`[build] ${line}\n`);

beforeAll(async () => {
  stack = await useStack();
  buildDir = mkdtempSync(join(tmpdir(), "belly-build-"));
  const started = performance.now();
  built = await buildBinaries({ outdir: buildDir });
  report(
    `built in ${Math.round(performance.now() - started)} ms: ${built.map((b) => `${b.name} ${(b.bytes / 1e6).toFixed(1)} MB`).join(", ")}`,
  );
  runDir = mkdtempSync(join(tmpdir(), "belly-bin-"));
  for (const binary of built) copyFileSync(binary.path, join(runDir, binary.name));

  fake = await startFakeCoinGecko();
  kafka = testKafka(stack.kafka.plaintext);
  topic = await createTestTopic("bin", 3);
  db = await createTestDatabase("bin");
  await migratePostgres(db.url);
  sql = new SQL(db.url);
  const redisUrl = `${stack.redisUrl}/6`;
  redis = new RedisClient(redisUrl);
  await redis.send("FLUSHDB", []);
  env = {
    KAFKA_BROKERS: stack.kafka.plaintext,
    KAFKA_TOPIC: topic,
    KAFKA_CONSUMER_GROUP: `${topic}-group`,
    KAFKA_SESSION_TIMEOUT_MS: "6000",
    ASSETS: ASSETS.join(","),
    VS_CURRENCIES: CURRENCIES.join(","),
    COINGECKO_BASE_URL: fake.url,
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    FETCH_INTERVAL: "3600",
    // Ours alone, should the consumer serve HTTP: other test files run consumers beside this one.
    PORT: String(10_000 + Math.floor(Math.random() * 50_000)),
    LOG_LEVEL: "info",
  };
}, 180_000);

afterAll(async () => {
  for (const proc of running) proc.kill("SIGKILL");
  await redis?.send("FLUSHDB", []).catch(() => {});
  redis?.close();
  await sql?.close();
  await db?.drop();
  if (topic) await deleteTopics([topic, `${topic}.dlq`]);
  await fake?.stop();
  for (const dir of [buildDir, runDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("compiled binaries", () => {
  test("is one executable whose every role starts alone in an empty directory and stops at a bad setting", async () => {
    expect(readdirSync(runDir)).toEqual(["belly"]);
    report(
      `one executable for ${Object.keys(ROLES).length} roles: ${((built[0]?.bytes ?? 0) / 1e6).toFixed(1)} MB`,
    );
    // A bad value, not a missing one: without KAFKA_BROKERS the entries may run on their in-process bus.
    const bad = { LOG_LEVEL: "loud" };
    const entries: Record<string, string> = {
      producer: "producer.ts",
      consumer: "consumer.ts",
      migrate: "scripts/migrate.ts",
      doctor: "scripts/doctor.ts",
    };
    expect(Object.keys(entries).sort()).toEqual(Object.keys(ROLES).sort());
    for (const [role, entry] of Object.entries(entries)) {
      const run = await runBinary(role, bad);
      expect(run.code).toBe(2);
      expect(run.lines.join("\n")).toContain("config: LOG_LEVEL");
      if (role === "migrate" || role === "doctor") continue;
      const bare: number[] = [];
      const source: number[] = [];
      for (let round = 0; round < 5; round++) {
        bare.push((await timed(() => runBinary(role, bad))).ms);
        source.push((await timed(() => runEntry(entry, bad))).ms);
      }
      report(
        `belly ${role}: start to config exit, median ${median(bare)} ms (bun run ${entry}: ${median(source)} ms)`,
      );
    }
  });

  test("without a role, or with an unknown one, prints its usage and exits 2", async () => {
    for (const args of [[], ["produce"]]) {
      const proc = Bun.spawn([join(runDir, "belly"), ...args], { cwd: runDir, env: {}, stderr: "pipe" });
      expect(await proc.exited).toBe(2);
      expect(await new Response(proc.stderr).text()).toContain(
        "usage: belly producer|consumer|migrate|doctor",
      );
    }
  });

  test("belly migrate applies the migrations it carries to DATABASE_URL", async () => {
    const fresh = await createTestDatabase("bin-migrate");
    try {
      const run = await runBinary("migrate", { DATABASE_URL: fresh.url });
      expect(run.code, run.lines.join("\n")).toBe(0);
      const db2 = new SQL(fresh.url);
      const [table] = await db2`select to_regclass('public.price_history') as t`;
      await db2.close();
      expect(table.t).toBe("price_history");
    } finally {
      await fresh.drop();
    }
  });

  test("belly producer --once publishes one cycle to Kafka and exits 0", async () => {
    // Alternated and repeated, so that neither side pays alone for a cold page cache or a cold broker.
    const binary: number[] = [];
    const source: number[] = [];
    for (let round = 0; round < 3; round++) {
      const run = await timed(() => runBinary("producer", env, ["--once"]));
      expect(run.code).toBe(0);
      binary.push(run.ms);
      const viaBun = await timed(() => runEntry("producer.ts", env, ["--once"]));
      expect(viaBun.code).toBe(0);
      source.push(viaBun.ms);
    }
    report(
      `belly producer --once: median ${median(binary)} ms (bun run producer.ts --once: ${median(source)} ms)`,
    );

    // Six runs of an unchanged book: six copies of each tick on the topic (the history keeps one).
    const messages = await readTopic(kafka, topic, PAIRS * 6);
    expect(messages).toHaveLength(PAIRS * 6);
    expect(new Set(messages.map((m) => m.key))).toEqual(
      new Set(ASSETS.flatMap((asset) => CURRENCIES.map((currency) => `${asset}:${currency}`))),
    );
    expect(messages.every((m) => m.headers.schema === "belly.tick.v1")).toBe(true);
  });

  test("belly producer reaches Kafka over SASL_SSL with SCRAM and a CA file (tls and crypto bundled)", async () => {
    const run = await runBinary(
      "producer",
      {
        ...env,
        KAFKA_BROKERS: stack.kafka.saslSsl,
        KAFKA_USERNAME: stack.kafka.username,
        KAFKA_PASSWORD: stack.kafka.password,
        KAFKA_SASL_MECHANISM: "scram-sha-512",
        KAFKA_CA_FILE: stack.kafka.caFile,
      },
      ["--once"],
    );
    expect(run.code, run.lines.join("\n")).toBe(0);
    expect(run.logs.find((l) => l.msg === "cycle")).toMatchObject({ published: PAIRS });
  }, 60_000);

  test("belly consumer stores every tick in Postgres and the latest in Redis, then stops on SIGTERM", async () => {
    const consumer = startBinary("consumer", env);
    const started = await waitFor("the consumer's started line", () => {
      if (consumer.logs().some((l) => l.msg === "consumer started")) return performance.now();
      // A consumer that is still starting keeps the wait going; its last lines say why when the wait ends.
      throw new Error(consumer.lines.slice(-5).join("\n") || "no output yet");
    });
    report(`belly consumer: spawn to "started" ${Math.round(started - consumer.started)} ms`);

    const expected = ASSETS.flatMap((asset) =>
      CURRENCIES.map((currency) => {
        const quote = fake.getPrice(asset, currency);
        return {
          asset,
          currency,
          price: quote?.price ?? Number.NaN,
          at: new Date((quote?.updatedAt ?? 0) * 1000),
        };
      }),
    );
    await waitFor(
      "rows in price_history",
      async () => (await sql`select count(*)::int as n from price_history`)[0].n >= PAIRS,
    );
    const rows: { asset: string; currency: string; price: string; at: Date }[] =
      await sql`select asset, currency, price, source_updated_at as at from price_history order by asset, currency`;
    expect(rows.map((r) => ({ ...r, price: Number(r.price) }))).toEqual(
      expected.sort((a, b) => `${a.asset}:${a.currency}`.localeCompare(`${b.asset}:${b.currency}`)),
    );
    await waitFor("the latest price in Redis", async () => redis.hget(latestKey("bitcoin", "eur"), "tick"));
    const latest = JSON.parse((await redis.hget(latestKey("bitcoin", "eur"), "tick")) ?? "null") as Tick;
    expect(latest.price).toBe(fake.getPrice("bitcoin", "eur")?.price ?? Number.NaN);

    report(`belly consumer: ${await residentMb(consumer.proc.pid)} MB resident after its first batch`);

    // The status page works from the binary alone, live script included (bundled at build time).
    const base = `http://127.0.0.1:${env.PORT}`;
    const page = await (await fetch(`${base}/`)).text();
    const script = page.match(/src="(\/assets\/live\.js[^"]*)"/)?.[1];
    expect(script).toBeDefined();
    const live = await fetch(`${base}${script}`);
    expect(live.status).toBe(200);
    expect(live.headers.get("content-type")).toContain("javascript");
    expect((await live.text()).length).toBeGreaterThan(1000);

    consumer.proc.kill("SIGTERM");
    expect(await consumer.exited).toBe(0);
    expect(consumer.logs().some((l) => l.msg === "consumer stopped")).toBe(true);

    // The same measure for `bun run consumer.ts`, on a group of its own so it takes nothing from the above.
    const source = startEntry("consumer.ts", { ...env, KAFKA_CONSUMER_GROUP: `${topic}-timing` });
    const sourceStart = performance.now();
    await waitFor("bun run consumer.ts started", () =>
      source.logs().some((l) => l.msg === "consumer started"),
    );
    report(`bun run consumer.ts: spawn to "started" ${Math.round(performance.now() - sourceStart)} ms`);
    source.proc.kill("SIGTERM");
    expect(await source.exited).toBe(0);
  }, 90_000);
});
