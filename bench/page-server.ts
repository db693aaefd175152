/**
 * A server of the status-page benchmark, run in a child process of its own so that the load generator and
 * the server under test never share an event loop. `bun bench/page-server.ts status <database-url>` serves
 * the real status app over that Postgres history (latest cache in memory, seeded from the history); `bun
 * bench/page-server.ts bare <file>` serves the file's bytes as a static page from a bare Hono app. Either
 * prints one line `{"port": n}` once it listens, and runs until killed.
 */
import { Hono } from "hono";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createPostgresHistory } from "../lib/adapters/postgres/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed, serveStatus } from "../lib/status/app.ts";

/** The producer's default poll interval, as a consumer in production is configured. */
const FETCH_INTERVAL_MS = 600_000;

const [mode, target] = process.argv.slice(2);

async function statusApp(databaseUrl: string): Promise<Hono> {
  const history = createPostgresHistory(databaseUrl);
  const cache = createMemoryCache();
  await cache.putIfNewer(await history.latest());
  const metrics = createConsumerMetrics();
  const startedAt = Date.now();
  return createStatusApp({
    cache,
    history,
    fetchIntervalMs: FETCH_INTERVAL_MS,
    // A feed, as the consumer wires it: no tick arrives during the benchmark, as between two real polls.
    subscribe: createTickFeed().subscribe,
    health: () => ({ metrics, lag: 0, startedAt }),
  }) as unknown as Hono;
}

async function bareApp(file: string): Promise<Hono> {
  const page = await Bun.file(file).text();
  return new Hono().get("/", (c) => c.html(page));
}

if ((mode !== "status" && mode !== "bare") || !target) {
  console.error("usage: bun bench/page-server.ts status <database-url> | bare <file>");
  process.exit(2);
}
const app = mode === "status" ? await statusApp(target) : await bareApp(target);
const server = serveStatus(app, 0, "127.0.0.1");
console.log(JSON.stringify({ port: server.port }));
