/**
 * GET /api/latest/:asset of the real status app (Postgres history and Redis latest cache on the stack)
 * against a bare Bun.serve + Hono app answering the same bytes, both under 64 connections from autocannon.
 * Each server runs in a child process of its own (bench/api-server.ts), so that the load generator never
 * shares its event loop. The cache holds the 50 benchmark pairs in Redis db 9 (which must be empty at the
 * start and is flushed at the end); the history holds the same ticks. The status app is measured twice: on
 * Bun's defaults and as deployed, with fly.toml's engine settings (bench/deployed.ts), each against the bare
 * app on Bun's defaults.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient } from "bun";
import { createPostgresHistory } from "../lib/adapters/postgres/history.ts";
import { createRedisCache } from "../lib/adapters/redis/cache.ts";
import { BENCH_REDIS_DB } from "./cache-redis.ts";
import type { Benchmark } from "./context.ts";
import { deployedEngineEnv, describeEngineEnv } from "./deployed.ts";
import { oursVsBare, startBenchServer } from "./http-load.ts";
import { compare, expectEqual } from "./measure.ts";
import { createBenchDatabase } from "./stack.ts";
import { benchTicks, PAIRS } from "./ticks.ts";

/** Concurrent connections of the load generator: the target is stated at 64. */
const CONNECTIONS = 64;
/** Seconds each measured round loads a server; a 1-second warm-up run of each comes before the first round. */
const DURATION_S = 3;
const WARMUP_S = 1;
/** Ten polls of every pair, so the history holds more than the latest tick of each. */
const TICKS = PAIRS.length * 10;
/** The asset requested: every currency of it (five), as a client showing one coin asks. */
const ASSET = "beldex";
const PATH = `/api/latest/${ASSET}`;

/** GET /api/latest/:asset of the status app beside a bare Hono app answering the same bytes. */
export const apiLatest: Benchmark = {
  name: `API GET ${PATH} (Postgres history, Redis db ${BENCH_REDIS_DB} cache, ${CONNECTIONS} connections, autocannon)`,
  needs: ["postgres", "redis"],
  async run(ctx) {
    const redisUrl = `${ctx.stack.redisUrl}/${BENCH_REDIS_DB}`;
    const admin = new RedisClient(redisUrl, { connectionTimeout: 5_000 });
    ctx.defer(() => admin.close());
    const keys = Number(await admin.send("DBSIZE", []));
    // Flushing a db someone else filled would destroy their data; a benchmark is not worth that.
    if (keys > 0)
      throw new Error(`Redis db ${BENCH_REDIS_DB} already holds ${keys} keys; empty it or pick another db`);
    ctx.defer(() => admin.send("FLUSHDB", []));
    const db = await createBenchDatabase(ctx.stack.databaseUrl, "bench_api");
    ctx.defer(() => db.drop());
    const dir = mkdtempSync(join(tmpdir(), "belly-bench-api-"));
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));

    const ticks = benchTicks(TICKS);
    const history = createPostgresHistory(db.url);
    const cache = createRedisCache(redisUrl);
    try {
      expectEqual("history rows", (await history.upsert(ticks)).inserted, TICKS);
      expectEqual("cached pairs", (await cache.putIfNewer(ticks)).updated, PAIRS.length);
    } finally {
      await Promise.all([history.close(), cache.close()]);
    }

    ctx.log("ours: the status app over Postgres history and Redis cache, own process");
    ctx.log("baseline: bare Hono app on Bun.serve answering the same bytes from memory, own process");
    const ours = await startBenchServer("api-server.ts", ["status", db.url, redisUrl], PATH);
    const stopOurs = ctx.defer(ours.stop);
    const answer = await fetch(ours.url);
    expectEqual(`first GET ${PATH} status`, answer.status, 200);
    const body = await answer.text();
    expectEqual("currencies answered", (JSON.parse(body) as { ticks: unknown[] }).ticks.length, 5);
    const file = join(dir, "latest.json");
    writeFileSync(file, body);
    const bare = await startBenchServer("api-server.ts", ["bare", PATH, file], PATH);
    const stopBare = ctx.defer(bare.stop);
    expectEqual("bare body", Number((await (await fetch(bare.url)).text()) === body), 1);
    ctx.log(`body: ${Buffer.byteLength(body)} bytes`);

    const rounds = await oursVsBare(ours.url, bare.url, CONNECTIONS, ctx.log, {
      warmupS: WARMUP_S,
      durationS: DURATION_S,
    });
    await stopOurs();
    const engine = await deployedEngineEnv();
    ctx.log(`as deployed: the status app with fly.toml's engine settings, ${describeEngineEnv(engine)}`);
    const deployed = await startBenchServer("api-server.ts", ["status", db.url, redisUrl], PATH, engine);
    const stopDeployed = ctx.defer(deployed.stop);
    expectEqual("as deployed: same body", Number((await (await fetch(deployed.url)).text()) === body), 1);
    const deployedRounds = await oursVsBare(deployed.url, bare.url, CONNECTIONS, ctx.log, {
      warmupS: WARMUP_S,
      durationS: DURATION_S,
    });
    await stopDeployed();
    await stopBare();
    return [
      compare(rounds, "requestsPerSecond", {
        benchmark: `API GET /api/latest/:asset vs bare Hono`,
        unit: "req/s",
        better: "higher",
      }),
      compare(rounds, "p99Ms", {
        benchmark: `API GET /api/latest/:asset, p99 vs bare Hono`,
        unit: "ms",
        better: "lower",
      }),
      compare(deployedRounds, "requestsPerSecond", {
        benchmark: `API GET /api/latest/:asset as deployed (fly.toml's engine settings) vs bare Hono`,
        unit: "req/s",
        better: "higher",
      }),
      compare(deployedRounds, "p99Ms", {
        benchmark: `API GET /api/latest/:asset as deployed, p99 vs bare Hono`,
        unit: "ms",
        better: "lower",
      }),
    ];
  },
};
