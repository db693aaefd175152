// Backfilled points on the page and in the API: the table's source column, the chart series' history flag
// (the tooltip reads it), and the API's own `source` field.
import { describe, expect, test } from "bun:test";
import { COINGECKO_CHART_SOURCE } from "../lib/adapters/coingecko/chart-response.ts";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp, createTickFeed } from "../lib/status/app.ts";
import { BACKFILL_GAP_MS, decodeSeries, encodeSeries, findGaps } from "../lib/status/chart-model.ts";
import { sourceLabel } from "../lib/status/format.ts";
import { BACKFILL_SOURCE } from "../lib/tick.ts";
import { makeTick } from "./support/ticks.ts";

const MINUTE = 60_000;

async function setup() {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  // Backfilled points for the first 20 minutes, then the poll's.
  const ticks = Array.from({ length: 30 }, (_, minute) =>
    makeTick(
      { source: minute < 20 ? BACKFILL_SOURCE : "coingecko", change24hPct: minute < 20 ? null : -1 },
      minute,
    ),
  );
  await cache.putIfNewer(ticks);
  await history.upsert(ticks);
  const last = Date.parse(ticks.at(-1)?.sourceUpdatedAt ?? "");
  const app = createStatusApp({
    cache,
    history,
    health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: last - 3_600_000 }),
    fetchIntervalMs: MINUTE,
    now: () => last + 30_000,
    subscribe: createTickFeed().subscribe,
  });
  return { app };
}

describe("backfilled points on the page and in the API", () => {
  test("the source labels: backfill for CoinGecko's price history, poll for its live price, others as they are", () => {
    expect(BACKFILL_SOURCE).toBe(COINGECKO_CHART_SOURCE);
    expect(sourceLabel(BACKFILL_SOURCE)).toBe("backfill");
    expect(sourceLabel("coingecko")).toBe("poll");
    expect(sourceLabel("demo")).toBe("demo");
  });

  test("the recent-points table has a source column naming each row's origin", async () => {
    const { app } = await setup();
    const html = await (await app.request("/")).text();
    const table = html.slice(html.indexOf('<table class="recent"'), html.indexOf("</table>"));
    expect(table).toContain('<th scope="col">Source</th>');
    // The 12 newest rows: minutes 29..18, the last two backfilled.
    const sources = [...table.matchAll(/data-field="source" data-source="([^"]+)"[^>]*>([^<]+)</g)].map(
      (m) => [m[1], m[2]],
    );
    expect(sources).toHaveLength(12);
    expect(sources.slice(0, 10).every(([raw, label]) => raw === "coingecko" && label === "poll")).toBe(true);
    expect(sources.slice(10)).toEqual([
      ["coingecko-chart", "backfill"],
      ["coingecko-chart", "backfill"],
    ]);
  });

  test("the chart series flags backfilled points, so the tooltip can say so", async () => {
    const { app } = await setup();
    const html = await (await app.request("/")).text();
    const series = decodeSeries(/data-series="([^"]*)"/.exec(html)?.[1]);
    expect(series).toHaveLength(30);
    expect(series.filter((p) => p.h)).toHaveLength(20);
    expect(series.slice(20).every((p) => !p.h)).toBe(true);
    expect(
      decodeSeries(
        encodeSeries([
          { t: 1, p: 2, h: true },
          { t: 3, p: 4 },
        ]),
      ),
    ).toEqual([
      { t: 1, p: 2, h: true },
      { t: 3, p: 4 },
    ]);
  });

  test("the history API returns each tick with its source", async () => {
    const { app } = await setup();
    const body = await (await app.request("/api/history/beldex?currency=usd&limit=100")).json();
    const ticks = (body.ticks ?? body) as { source: string }[];
    expect(ticks.filter((t) => t.source === BACKFILL_SOURCE)).toHaveLength(20);
    expect(ticks.filter((t) => t.source === "coingecko")).toHaveLength(10);
  });

  test("hourly backfilled points are no gaps; a missing stretch of them, or of polled ticks, still is", () => {
    const HOUR = 3_600_000;
    const hourly = Array.from({ length: 5 }, (_, i) => ({ t: i * HOUR, p: 1, h: true }));
    expect(findGaps(hourly, 20 * MINUTE)).toEqual([]);
    const holed = [...hourly, { t: 4 * HOUR + BACKFILL_GAP_MS + 1, p: 1, h: true }];
    expect(findGaps(holed, 20 * MINUTE)).toHaveLength(1);
    // A polled tick an hour after the last backfilled point is the history's spacing, not a hole.
    expect(findGaps([...hourly, { t: 5 * HOUR, p: 1 }], 20 * MINUTE)).toEqual([]);
    expect(
      findGaps(
        [
          { t: 0, p: 1 },
          { t: HOUR, p: 1 },
        ],
        20 * MINUTE,
      ),
    ).toHaveLength(1);
  });
});
