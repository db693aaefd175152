// Everything the status page shows, read from the sinks in one go. A failing sink does not fail the page: it
// shows what it could read and says which part is missing.

import type { z } from "zod";
import { SinkError } from "../errors.ts";
import type { Tick } from "../tick.ts";
import { tickKey, tickTime } from "../tick.ts";
import { type ChartData, readChart } from "./chart-data.ts";
import type { StatusContext } from "./deps.ts";
import {
  type ChangeView,
  formatChange,
  formatDateTime,
  formatPrice,
  formatTime,
  percentChange,
  sourceLabel,
} from "./format.ts";
import type { PairGaps } from "./metrics.ts";
import type { PageRange, pageQuery } from "./params.ts";
import { type StatusSnapshot, takeSnapshot } from "./snapshot.ts";
import {
  type CardView,
  cardView,
  defaultPair,
  type HealthView,
  healthView,
  type PairGroup,
  pairGroups,
  pairOrder,
} from "./view.ts";

export type { ChartData, GapView } from "./chart-data.ts";

/** Rows of the recent-points table. */
const TABLE_ROWS = 12;

/** One row of the recent-points table. */
export interface RowView {
  t: number;
  iso: string;
  time: string;
  p: number;
  price: string;
  /** Change from the previous (older) point. */
  change: ChangeView;
  /** "poll", "backfill" (CoinGecko's price history) or another source as it is; see sourceLabel. */
  source: string;
  /** The tick's own `source`, for the cell's title. */
  rawSource: string;
}

/** Data of the status page. */
export interface PageData {
  /** In the order of {@link pairs}. */
  cards: CardView[];
  /** The selector's pairs, grouped by asset: the configured ones first, then those only the cache holds. */
  pairs: PairGroup[];
  /** The pair of the chart and the table, or null when no pair is known. */
  selected: { asset: string; currency: string; pair: string } | null;
  range: PageRange;
  chart: ChartData | null;
  rows: RowView[];
  health: HealthView;
  /** Sentences for the parts that could not be read ("The price history is unavailable."). */
  problems: string[];
  /** Whether the live stream is available (the page then loads its script). */
  live: boolean;
  /** Server time of the render (epoch ms). */
  now: number;
}

async function orProblem<T>(
  read: () => Promise<T>,
  fallback: T,
  problem: string,
  problems: string[],
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof SinkError)) throw error;
    problems.push(problem);
    return fallback;
  }
}

/** Key of the table's read in the chart cache (the chart's own keys are the ranges). */
const RECENT_KEY = "recent";

/** The newest source time of a pair in the snapshot's latest ticks, or null: what a kept read is valid for. */
function stampOf(latest: Tick[], pair: string): number | null {
  const tick = latest.find((candidate) => tickKey(candidate) === pair);
  return tick ? tickTime(tick) : null;
}

/**
 * The chart of one pair and range, reused until the pair's next tick (see chart-cache.ts).
 * @example const chart = await loadChart(ctx, "beldex", "usd", "24h", snapshot.latest);
 */
export function loadChart(
  ctx: StatusContext,
  asset: string,
  currency: string,
  range: PageRange,
  latest: Tick[],
): Promise<ChartData> {
  const pair = tickKey({ asset, currency });
  return ctx.charts.get(pair, range, stampOf(latest, pair), () =>
    readChart(ctx.history, asset, currency, range, ctx.now(), ctx.fetchIntervalMs),
  );
}

/**
 * Gaps of the last 24 hours of every pair in the latest ticks, from the same (kept) reads as the page's 24h
 * chart; a pair whose history cannot be read is left out.
 * @example prometheusText(snapshot, await historyGaps(ctx, snapshot.latest))
 */
export async function historyGaps(ctx: StatusContext, latest: Tick[]): Promise<PairGaps[]> {
  const found = await Promise.all(
    latest.map(async ({ asset, currency }) => {
      try {
        const { gaps } = await loadChart(ctx, asset, currency, "24h", latest);
        const seconds = gaps.reduce((sum, gap) => sum + gap.ms, 0) / 1000;
        return { asset, currency, count: gaps.length, seconds };
      } catch (error) {
        if (!(error instanceof SinkError)) throw error;
        return null;
      }
    }),
  );
  return found.filter((gaps): gaps is PairGaps => gaps !== null);
}

/**
 * Table rows from the most recent ticks (newest first), each with its change from the one before it; reads
 * one tick more than it shows so that the last row has a change too.
 */
function tableRows(recent: Tick[], now: number, rows = TABLE_ROWS): RowView[] {
  return recent.slice(0, rows).map((tick, index) => {
    const t = tickTime(tick);
    const older = recent[index + 1];
    return {
      t,
      iso: new Date(t).toISOString(),
      time: now - t < 86_400_000 ? formatTime(t) : formatDateTime(t),
      p: tick.price,
      price: formatPrice(tick.price, tick.currency),
      change: formatChange(older ? percentChange(older.price, tick.price) : null),
      source: sourceLabel(tick.source),
      rawSource: tick.source,
    };
  });
}

/**
 * Reads the page's data: latest prices and health from one snapshot, the selected pair's chart and recent points.
 * @example const data = await loadPage(ctx, { range: "24h" });
 */
export async function loadPage(
  ctx: StatusContext,
  query: z.output<typeof pageQuery>,
  /** The request's snapshot when the caller took it already. Default: one taken here. */
  taken?: StatusSnapshot,
): Promise<PageData> {
  const snapshot = taken ?? (await takeSnapshot(ctx));
  const { latest, now } = snapshot;
  const problems = snapshot.cacheFailed
    ? ["The latest-price cache is unavailable: prices may be missing."]
    : [];
  const order = pairOrder(ctx.pairs, latest.map(tickKey));
  const cards = latest.map(cardView).sort((a, b) => order.indexOf(a.pair) - order.indexOf(b.pair));
  const priced = new Set(cards.map((card) => card.pair));
  const wanted = query.pair && (order.includes(query.pair) || latest.length === 0);
  const pair = wanted ? query.pair : defaultPair(order, priced);
  const [asset, currency] = pair ? pair.split(":") : [];
  const selected = asset && currency ? { asset, currency, pair: tickKey({ asset, currency }) } : null;

  let chart: ChartData | null = null;
  let rows: RowView[] = [];
  if (selected) {
    const historyProblem = "The price history is unavailable: the chart and the table are empty.";
    const [chartResult, recent] = await Promise.all([
      orProblem(
        () => loadChart(ctx, selected.asset, selected.currency, query.range, latest),
        null,
        historyProblem,
        problems,
      ),
      orProblem(
        () =>
          ctx.charts.get(selected.pair, RECENT_KEY, stampOf(latest, selected.pair), () =>
            ctx.history.recent(selected.asset, selected.currency, TABLE_ROWS + 1),
          ),
        [],
        historyProblem,
        problems,
      ),
    ]);
    chart = chartResult;
    rows = tableRows(recent, now);
  }

  return {
    cards,
    pairs: pairGroups(order, priced),
    selected,
    range: query.range,
    chart,
    rows,
    health: healthView(snapshot),
    problems: [...new Set(problems)],
    live: ctx.subscribe !== undefined,
    now,
  };
}
