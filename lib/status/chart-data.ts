// The chart's data for one pair and range, read from the history through its bounded queries and reduced on
// the server to what the chart can draw, so that the work per request and the page's size stay bounded
// whatever the history holds; kept per pair and range until that pair's next tick (chart-cache.ts).
import { RANGE_LIMIT } from "../candles.ts";
import { CANDLE_INTERVALS, type Candle, type CandleInterval } from "../ports.ts";
import { BACKFILL_SOURCE, tickTime } from "../tick.ts";
import {
  CHART_COLUMNS,
  type ChartGap,
  type ChartPoint,
  downsample,
  findGaps,
  gapSentence,
} from "./chart-model.ts";
import { formatAge, formatDateTime } from "./format.ts";
import { PAGE_RANGES, type PageRange } from "./params.ts";
import type { HistoryReader } from "./sinks.ts";

/**
 * Candle width read instead of ticks when a range holds more ticks than one range read returns: at most
 * 2016 candles (7 days of 5 minutes), each giving its low and high, so a spike survives.
 */
const CANDLE_FALLBACK: Record<PageRange, CandleInterval> = { "24h": "5m", "7d": "5m", "30d": "1h" };
const CANDLE_WORDS: Record<CandleInterval, string> = { "5m": "5-minute", "1h": "hourly", "1d": "daily" };

/** A gap as the page lists it: the times of the ticks either side, its length, and its sentence. */
export interface GapView extends ChartGap {
  /** ISO times of `from` and `to`, for `<time datetime>`. */
  fromIso: string;
  toIso: string;
  /** "Nov 26, 14:00" (UTC). */
  fromLabel: string;
  toLabel: string;
  /** "30m 00s". */
  length: string;
  /** "No data from Nov 26, 14:00 to Nov 26, 14:30 UTC (30m 00s)". */
  title: string;
}

/** The chart's series and everything it says about it. */
export interface ChartData {
  /** Points to draw, oldest first: every tick, or the low and high of each pixel column (≤ 2 × 480 + 2). */
  points: ChartPoint[];
  /** What one point stands for: "tick", "3-minute low and high", "5-minute candle's low and high". */
  resolution: string;
  /** The range shown, e.g. "24h"; the chart's change is labelled with it ("24h change (chart)"). */
  range: PageRange;
  /** The x axis spans [from, to] (epoch ms): the whole range, whatever the data. */
  from: number;
  to: number;
  /** Neighbouring ticks further apart than this (twice FETCH_INTERVAL) are a gap. */
  gapMs: number;
  /** Gaps in the range, oldest first; found on the ticks (or candles) before reduction. */
  gaps: GapView[];
  /** Time of the first tick when the data starts more than `gapMs` after `from`, else null ("data since"). */
  since: number | null;
  /** Ticks the range holds (counted by the store when read as candles). */
  ticks: number;
}

/** Epoch ms of an ISO candle start. */
const startOf = (candle: Candle) => Date.parse(candle.start);

/**
 * A candle as up to four points inside its bucket: open at the start, low and high in the order that leads to
 * the close, and the close at the end (never past `to`), so spikes survive and the change reads open to close.
 */
function candlePoints(candles: Candle[], width: number, to: number): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const candle of candles) {
    const t = startOf(candle);
    const end = Math.min(t + width - 1, to - 1);
    const rising = candle.close >= candle.open;
    const [a, b] = rising ? [candle.low, candle.high] : [candle.high, candle.low];
    const span = Math.max(1, end - t);
    points.push({ t, p: candle.open });
    if (a !== candle.open) points.push({ t: t + Math.round(span / 3), p: a });
    if (b !== candle.close) points.push({ t: t + Math.round((2 * span) / 3), p: b });
    if (end > t) points.push({ t: end, p: candle.close });
  }
  return points;
}

/**
 * Gaps between candles: from the end of a bucket to the start of the next non-empty one, when that is more
 * than `gapMs`. A lower bound of the real gap (a bucket's ticks may stop before its end), so never a false one.
 */
function candleGaps(candles: Candle[], width: number, gapMs: number): ChartGap[] {
  const gaps: ChartGap[] = [];
  for (let i = 1; i < candles.length; i++) {
    const from = startOf(candles[i - 1] as Candle) + width;
    const to = startOf(candles[i] as Candle);
    if (to - from > gapMs) gaps.push({ from, to, ms: to - from });
  }
  return gaps;
}

/**
 * A gap with its labels, for the list under the chart and /metrics.
 * @example gapView({ from, to, ms: to - from }).length // "30m 00s"
 */
export function gapView(gap: ChartGap): GapView {
  return {
    ...gap,
    fromIso: new Date(gap.from).toISOString(),
    toIso: new Date(gap.to).toISOString(),
    fromLabel: formatDateTime(gap.from),
    toLabel: formatDateTime(gap.to),
    length: formatAge(gap.ms),
    title: gapSentence(gap),
  };
}

/** Width of one pixel column over a range, in words: "3-minute". */
function columnWords(rangeMs: number): string {
  const minutes = Math.round(rangeMs / CHART_COLUMNS / 60_000);
  return minutes >= 120 ? `${Math.round(minutes / 60)}-hour` : `${Math.max(1, minutes)}-minute`;
}

/**
 * Reads and reduces the chart of one pair over `range` ending at `now`: the range's ticks when one bounded
 * range read holds them all (at most 10,000), else the store's candles; gaps longer than twice the fetch
 * interval are found before the series is cut down to {@link CHART_COLUMNS} columns.
 * @example const chart = await readChart(ctx.history, "beldex", "usd", "24h", Date.now(), 600_000);
 */
export async function readChart(
  history: HistoryReader,
  asset: string,
  currency: string,
  range: PageRange,
  now: number,
  fetchIntervalMs: number,
): Promise<ChartData> {
  const from = now - PAGE_RANGES[range];
  const gapMs = 2 * fetchIntervalMs;
  const ticks = await history.range({ asset, currency, from: new Date(from), limit: RANGE_LIMIT.max });
  let series: ChartPoint[];
  let gaps: ChartGap[];
  let count: number;
  let resolution: string;
  if (ticks.length < RANGE_LIMIT.max) {
    series = ticks.map((tick) =>
      tick.source === BACKFILL_SOURCE
        ? { t: tickTime(tick), p: tick.price, h: true }
        : { t: tickTime(tick), p: tick.price },
    );
    gaps = findGaps(series, gapMs);
    count = ticks.length;
    resolution = "tick";
  } else {
    // A full read may have left out the range's older ticks: the candles cover all of it.
    const interval = CANDLE_FALLBACK[range];
    const width = CANDLE_INTERVALS[interval];
    const candles = await history.candles({ asset, currency, from: new Date(from), interval });
    series = candlePoints(candles, width, now);
    gaps = candleGaps(candles, width, gapMs);
    count = candles.reduce((sum, candle) => sum + candle.count, 0);
    resolution = `${CANDLE_WORDS[interval]} candle's low and high`;
  }
  const points = downsample(series, from, now);
  if (points.length < series.length) resolution = `${columnWords(PAGE_RANGES[range])} low and high`;
  const first = series[0];
  return {
    points,
    resolution,
    range,
    from,
    to: now,
    gapMs,
    gaps: gaps.map(gapView),
    since: first && first.t - from > gapMs ? first.t : null,
    ticks: count,
  };
}
