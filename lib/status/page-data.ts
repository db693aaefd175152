// Everything the status page shows, read from the sinks in one go. A failing sink does not fail the page: it
// shows what it could read and says which part is missing.

import type { z } from "zod";
import { SinkError } from "../errors.ts";
import type { CandleInterval } from "../ports.ts";
import type { Tick } from "../tick.ts";
import { tickKey, tickTime } from "../tick.ts";
import type { ChartPoint } from "./chart-model.ts";
import type { StatusContext } from "./deps.ts";
import {
  type ChangeView,
  formatChange,
  formatDateTime,
  formatPrice,
  formatTime,
  percentChange,
} from "./format.ts";
import { PAGE_RANGES, type PageRange, type pageQuery } from "./params.ts";
import { takeSnapshot } from "./snapshot.ts";
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

/** Most points the chart draws one per tick; a longer range is drawn from store-computed candle closes. */
export const CHART_MAX_POINTS = 1500;
/** Rows of the recent-points table. */
const TABLE_ROWS = 12;

// The candle width used when a range holds too many ticks: a few hundred points per range.
const FALLBACK_INTERVAL: Record<PageRange, CandleInterval> = { "24h": "5m", "7d": "1h", "30d": "1h" };
const RESOLUTION: Record<CandleInterval, string> = {
  "5m": "5-minute close",
  "1h": "hourly close",
  "1d": "daily close",
};

/** One row of the recent-points table. */
export interface RowView {
  t: number;
  iso: string;
  time: string;
  p: number;
  price: string;
  /** Change from the previous (older) point. */
  change: ChangeView;
}

/** The chart's series and what one point stands for. */
export interface ChartData {
  points: ChartPoint[];
  /** "tick", or the candle close drawn instead ("hourly close") when the range holds too many ticks. */
  resolution: string;
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

async function chartData(
  ctx: StatusContext,
  asset: string,
  currency: string,
  range: PageRange,
  now: number,
): Promise<ChartData> {
  const from = new Date(now - PAGE_RANGES[range]);
  const ticks = await ctx.history.range({ asset, currency, from, limit: CHART_MAX_POINTS + 1 });
  if (ticks.length <= CHART_MAX_POINTS)
    return { points: ticks.map((tick) => ({ t: tickTime(tick), p: tick.price })), resolution: "tick" };
  const interval = FALLBACK_INTERVAL[range];
  const candles = await ctx.history.candles({ asset, currency, from, interval });
  return {
    points: candles.map((candle) => ({ t: Date.parse(candle.start), p: candle.close })),
    resolution: RESOLUTION[interval],
  };
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
    };
  });
}

/**
 * Reads the page's data: latest prices and health from one snapshot, the selected pair's chart and recent points.
 * @example const data = await loadPage(ctx, { range: "24h" });
 */
export async function loadPage(ctx: StatusContext, query: z.output<typeof pageQuery>): Promise<PageData> {
  const snapshot = await takeSnapshot(ctx);
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
        () => chartData(ctx, selected.asset, selected.currency, query.range, now),
        null,
        historyProblem,
        problems,
      ),
      orProblem(
        () => ctx.history.recent(selected.asset, selected.currency, TABLE_ROWS + 1),
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
