/**
 * A server of the API benchmark, run in a child process of its own so that the load generator and the server
 * under test never share an event loop. `bun bench/api-server.ts status <database-url> <redis-url>` serves
 * the real status app over that Postgres history and Redis latest cache, wired as the consumer wires it (tick
 * feed, repair from the history); `bun bench/api-server.ts bare <path> <file>` answers GET `path` with the
 * file's bytes as JSON from a bare Hono app. Either prints one line `{"port": n}` once it listens, and runs
 * until killed.
 */
import { Hono } from "hono";
import { createPostgresHistory } from "../lib/adapters/postgres/history.ts";
import { createRedisCache } from "../lib/adapters/redis/cache.ts";
import { createLogger } from "../lib/log.ts";
import { createLatestRepair } from "../lib/pipeline/latest-repair.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed, serveStatus } from "../lib/status/app.ts";

/** The producer's default poll interval, as a consumer in production is configured. */
const FETCH_INTERVAL_MS = 600_000;

const [mode, first, second] = process.argv.slice(2);

function statusApp(databaseUrl: string, redisUrl: string): Hono {
  const history = createPostgresHistory(databaseUrl);
  const cache = createRedisCache(redisUrl);
  const log = createLogger({ level: "warn" });
  const metrics = createConsumerMetrics();
  const startedAt = Date.now();
  return createStatusApp({
    cache,
    history,
    log,
    fetchIntervalMs: FETCH_INTERVAL_MS,
    // A feed, as the consumer wires it: no tick arrives during the benchmark, as between two real polls.
    subscribe: createTickFeed().subscribe,
    repair: createLatestRepair({ history, cache, log }),
    health: () => ({ metrics, lag: 0, startedAt }),
  }) as unknown as Hono;
}

async function bareApp(path: string, file: string): Promise<Hono> {
  const body = await Bun.file(file).bytes();
  return new Hono().get(path, (c) => c.body(body, 200, { "Content-Type": "application/json" }));
}

if (!((mode === "status" || mode === "bare") && first && second)) {
  console.error("usage: bun bench/api-server.ts status <database-url> <redis-url> | bare <path> <file>");
  process.exit(2);
}
const app = mode === "status" ? statusApp(first, second) : await bareApp(first, second);
const server = serveStatus(app, 0, "127.0.0.1");
console.log(JSON.stringify({ port: server.port }));
