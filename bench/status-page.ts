/**
 * GET / of the real status app over a real Postgres history of 10,000 and of 1,000,000 rows, against a bare
 * Hono app serving a static page of the same bytes, both under 64 connections from autocannon. Each server
 * runs in a child process of its own (bench/page-server.ts), so that the load generator never shares its
 * event loop; the history is one pair's last 24 hours (the page's default view), with a 30-minute hole.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Benchmark } from "./context.ts";
import { oursVsBare, startBenchServer } from "./http-load.ts";
import { compare, expectEqual, type Figure } from "./measure.ts";
import { createBenchDatabase } from "./stack.ts";

/** History sizes measured, each in the same database, loaded anew. */
const SIZES = [10_000, 1_000_000] as const;
/** Concurrent connections of the load generator: the target is stated at 64. */
const CONNECTIONS = 64;
/** Seconds each measured round loads a server; a 1-second warm-up run comes before the first round. */
const DURATION_S = 3;
const WARMUP_S = 1;
/** The pair the history is written for: the project's default pair, so that `/` shows it. */
const PAIR = { asset: "beldex", currency: "usd" } as const;
const DAY_MS = 86_400_000;
const HOLE_MS = 30 * 60_000;

/**
 * Writes `rows` ticks of {@link PAIR}, evenly over the 24 hours before now less a 30-minute hole in the
 * middle, in one INSERT ... SELECT from generate_series (a million rows in seconds, no data through the
 * client). Prices wander around 0.07 with a spike every 997 rows, so that a downsampler losing them shows.
 */
async function loadHistory(url: string, rows: number): Promise<void> {
  const sql = new Bun.SQL({ url, max: 1 });
  try {
    await sql`truncate price_history`;
    const start = new Date(Date.now() - DAY_MS);
    const stepMs = (DAY_MS - HOLE_MS - 60_000) / rows;
    await sql`
      insert into price_history
        (asset, currency, price, market_cap, volume_24h, change_24h_pct, source, source_updated_at, fetched_at)
      select ${PAIR.asset}, ${PAIR.currency},
             round((0.07 * (1 + 0.03 * sin(i / 5000.0)) * (case when i % 997 = 0 then 1.2 else 1 end))::numeric, 8),
             512000000, 2100000, -1.3, 'coingecko', t, t
      from (
        select i, ${start}::timestamptz + make_interval(secs => (i * ${stepMs}
               + case when i >= ${rows} / 2 then ${HOLE_MS} else 0 end) / 1000.0) as t
        from generate_series(0, ${rows - 1}) as i
      ) series`;
    await sql`analyze price_history`;
    const [row] = (await sql`select count(*)::int as n from price_history`) as { n: number }[];
    expectEqual("history rows", row?.n ?? 0, rows);
  } finally {
    await sql.close();
  }
}

/** GET / of the status app at each history size, beside a bare Hono app serving the same bytes. */
export const statusPage: Benchmark = {
  name: `status page GET / (${SIZES.map((n) => n.toLocaleString("en-US")).join(" and ")} rows of history, ${CONNECTIONS} connections, autocannon)`,
  needs: ["postgres"],
  async run(ctx) {
    const db = await createBenchDatabase(ctx.stack.databaseUrl, "bench_page");
    ctx.defer(() => db.drop());
    const dir = mkdtempSync(join(tmpdir(), "belly-bench-page-"));
    ctx.defer(() => rmSync(dir, { recursive: true, force: true }));
    ctx.log(`ours: the status app over Postgres history (latest cache in memory), own process`);
    ctx.log(`baseline: bare Hono app on Bun.serve answering the same bytes from memory, own process`);

    const figures: Figure[] = [];
    const sizes: number[] = [];
    for (const rows of SIZES) {
      const t0 = performance.now();
      await loadHistory(db.url, rows);
      ctx.log(
        `${rows.toLocaleString("en-US")} rows loaded in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
      );
      const ours = await startBenchServer("page-server.ts", ["status", db.url], "/");
      const stopOurs = ctx.defer(ours.stop);
      const first = await fetch(ours.url);
      const page = await first.text();
      expectEqual("first GET / status", first.status, 200);
      if (!page.includes('data-role="chart"')) throw new Error("GET / has no chart");
      const bytes = Buffer.byteLength(page);
      sizes.push(bytes);
      const file = join(dir, `page-${rows}.html`);
      writeFileSync(file, page);
      const bare = await startBenchServer("page-server.ts", ["bare", file], "/");
      const stopBare = ctx.defer(bare.stop);
      const bareBytes = Buffer.byteLength(await (await fetch(bare.url)).text());
      expectEqual("bare page bytes", bareBytes, bytes);
      ctx.log(
        `page: ${bytes.toLocaleString("en-US")} bytes; first GET / took its reads, the rest may reuse them`,
      );
      const rounds = await oursVsBare(ours.url, bare.url, CONNECTIONS, ctx.log, {
        warmupS: WARMUP_S,
        durationS: DURATION_S,
      });
      await stopBare();
      await stopOurs();
      const label = `${rows.toLocaleString("en-US")} rows`;
      figures.push(
        compare(rounds, "requestsPerSecond", {
          benchmark: `Status page GET /, ${label}, vs bare Hono`,
          unit: "req/s",
          better: "higher",
        }),
        compare(rounds, "p99Ms", {
          benchmark: `Status page GET /, ${label}, p99 vs bare Hono`,
          unit: "ms",
          better: "lower",
        }),
      );
    }
    figures.push({
      benchmark: `Status page size, ${SIZES[1].toLocaleString("en-US")} rows vs ${SIZES[0].toLocaleString("en-US")}`,
      unit: "bytes",
      better: "lower",
      ours: sizes[1] as number,
      baseline: sizes[0] as number,
    });
    return figures;
  },
};
