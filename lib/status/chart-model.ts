// Geometry and labels of the price chart, as plain data. The server renders it as SVG (chart.tsx); the browser
// script recomputes it from the same series after each live tick, so both draw the exact same chart. Browser-safe:
// no imports beyond format.ts, Intl only.
import { formatAge, formatChange, formatDateTime, formatPrice } from "./format.ts";

/** One chart point: epoch milliseconds and price. */
export interface ChartPoint {
  t: number;
  p: number;
  /** True for a point of CoinGecko's price history (a backfilled tick), so the tooltip can say so. */
  h?: boolean;
}

/** A stretch without data: epoch ms of the tick before it and of the tick after it, and its length. */
export interface ChartGap {
  from: number;
  to: number;
  ms: number;
}

/**
 * User space of the plot, which the page stretches to the chart's size (so labels, drawn in CSS pixels, stay
 * crisp on any screen). The top margin keeps the line and its end dot off the frame; the bottom one holds the
 * time labels. Price labels sit left of the box, outside the plot, so the line never runs over them.
 */
export const CHART_BOX = { width: 1000, height: 400, top: 24, bottom: 44, left: 0, right: 16 } as const;
/** Shape of {@link CHART_BOX}. */
export type ChartBox = { [K in keyof typeof CHART_BOX]: number };

/** Most price intervals on the y axis; nice steps give 3 to 6 grid lines. */
export const Y_TICKS = 5;
/** Most time labels under the plot: six fit a phone's width at the label size. */
export const X_TICKS = 6;
/**
 * Pixel columns the server reduces a series to (min and max of each), about the widest the chart is drawn:
 * a page holds at most 2 × 480 + 2 points whatever the history size.
 */
export const CHART_COLUMNS = 480;
/** Gap threshold when none is given: twice the default FETCH_INTERVAL of 600 s. */
export const DEFAULT_GAP_MS = 1_200_000;

/** A label at a position along one axis. */
export interface AxisTick {
  /** Position in percent of the box (x for time ticks, y for price ticks). */
  at: number;
  label: string;
}

/** A gap as drawn: a band from `x` spanning `width`, both in percent of the box, and its sentence. */
export interface GapMark extends ChartGap {
  x: number;
  width: number;
  title: string;
}

/** Everything needed to draw the chart; empty strings and nulls when there are no points. */
export interface ChartModel {
  count: number;
  /** `d` of the line: one subpath per stretch of data, broken at each gap. */
  line: string;
  /** `d` of the filled area under the line, one closed subpath per stretch. */
  area: string;
  /** The newest point, marked with a dot, in percent of the box. */
  last: { x: number; y: number } | null;
  yTicks: AxisTick[];
  xTicks: AxisTick[];
  /** The gaps inside the time domain, as bands. */
  gaps: GapMark[];
  /** Where the data starts when it starts later than the range (percent of the box), and its label. */
  since: { x: number; label: string } | null;
  /** Highest and lowest price in the series, formatted. */
  high: string;
  low: string;
  /** Change from the first to the last point, in percent. */
  changePct: number | null;
  /** Time and price domains, to place any point of the series, e.g. under the pointer. */
  scale: ChartScale | null;
}

/** Time (epoch ms) and price domains of a chart. */
export interface ChartScale {
  t0: number;
  t1: number;
  lo: number;
  hi: number;
}

/** What the chart spans and knows besides its points; every field optional. */
export interface ChartOptions {
  /** Start of the x axis (epoch ms). Default: the first point. */
  from?: number;
  /** End of the x axis (epoch ms). Default: the last point. */
  to?: number;
  /** Gaps to break the line at, found on the full series before it was reduced. Default: none. */
  gaps?: ChartGap[];
  /** A later start of data than this after `from` is labelled "data since". Default {@link DEFAULT_GAP_MS}. */
  gapMs?: number;
  box?: ChartBox;
}

/**
 * Where a point sits in the plot, in percent of the box from its top left.
 * @example position({ t: 5, p: 1 }, { t0: 0, t1: 10, lo: 0, hi: 2 }) // { x: …, y: … }
 */
export function position(
  point: ChartPoint,
  scale: ChartScale,
  box: ChartBox = CHART_BOX,
): { x: number; y: number } {
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = box.left + ((point.t - scale.t0) / (scale.t1 - scale.t0)) * plotW;
  const y = box.top + (1 - (point.p - scale.lo) / (scale.hi - scale.lo)) * plotH;
  return { x: percent(x, box.width), y: percent(y, box.height) };
}

const round = (value: number) => Math.round(value * 100) / 100;
const percent = (value: number, of: number) => round((value / of) * 100);

/**
 * How far apart backfilled points may be without a gap: 2 hours, twice the hourly spacing of CoinGecko's price
 * history beyond its last day. Coarser history is no hole; a missing stretch of it still is.
 */
export const BACKFILL_GAP_MS = 2 * 3_600_000;

/**
 * The gaps of a series (oldest first): each pair of neighbours more than `gapMs` apart, or more than
 * {@link BACKFILL_GAP_MS} when either is a backfilled point (`h`). Exactly `gapMs` is not a gap: a poll that
 * came one interval late on top of a missed one is still on schedule's edge.
 * @example findGaps([{ t: 0, p: 1 }, { t: 10, p: 1 }], 5) // [{ from: 0, to: 10, ms: 10 }]
 */
export function findGaps(points: readonly ChartPoint[], gapMs: number): ChartGap[] {
  const gaps: ChartGap[] = [];
  for (let i = 1; i < points.length; i++) {
    const before = points[i - 1] as ChartPoint;
    const after = points[i] as ChartPoint;
    const limit = before.h || after.h ? Math.max(gapMs, BACKFILL_GAP_MS) : gapMs;
    if (after.t - before.t > limit) gaps.push({ from: before.t, to: after.t, ms: after.t - before.t });
  }
  return gaps;
}

/**
 * Reduces a series (oldest first) to the lowest and the highest point of each of `columns` equal slices of
 * [t0, t1], in time order, plus the very first and last points (so the change reads the same): a spike
 * anywhere survives, and the result holds at most 2 × columns + 2 points.
 * @example downsample(points, from, to, 480).length <= 962
 */
export function downsample(
  points: readonly ChartPoint[],
  t0: number,
  t1: number,
  columns = CHART_COLUMNS,
): ChartPoint[] {
  if (points.length <= 2 * columns + 2) return [...points];
  const span = Math.max(1, t1 - t0);
  const kept: ChartPoint[] = [];
  let column = Number.NaN;
  let low: ChartPoint | undefined;
  let high: ChartPoint | undefined;
  const flush = () => {
    if (!low || !high) return;
    if (low === high) kept.push(low);
    else if (low.t <= high.t) kept.push(low, high);
    else kept.push(high, low);
  };
  for (const point of points) {
    // Multiplied before divided: (t / span) * columns rounds 2800 / 10000 * 100 down to column 27.
    const at = Math.min(columns - 1, Math.max(0, Math.floor(((point.t - t0) * columns) / span)));
    if (at !== column) {
      flush();
      column = at;
      low = point;
      high = point;
    } else {
      if (point.p < (low as ChartPoint).p) low = point;
      if (point.p > (high as ChartPoint).p) high = point;
    }
  }
  flush();
  const first = points[0] as ChartPoint;
  const last = points[points.length - 1] as ChartPoint;
  if (kept[0] !== first) kept.unshift(first);
  if (kept[kept.length - 1] !== last) kept.push(last);
  return kept;
}

/**
 * A round step (1, 2 or 5 × 10^n) that cuts `span` into at most `count` intervals.
 * @example niceStep(0.0063, 5) // 0.002
 */
export function niceStep(span: number, count = Y_TICKS): number {
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  // A hair of tolerance: 0.3 / 3 is 0.09999999999999999, which must count as 1 × 10^-1.
  const factor = residual <= 1 + 1e-9 ? 1 : residual <= 2 + 1e-9 ? 2 : residual <= 5 + 1e-9 ? 5 : 10;
  return factor * magnitude;
}

/** Decimal places a step needs: 0.0005 → 4, 0.01 → 2, 500 → 0. */
function decimalsOf(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * Round tick values covering [lo, hi]: multiples of {@link niceStep}, the first at or below `lo` and the last
 * at or above `hi`, so the axis is labelled end to end. A flat range is widened by 1% around its value.
 * @example niceTicks(0.07051, 0.07114) // { step: 0.0002, values: [0.0704, 0.0706, …, 0.0712] }
 */
export function niceTicks(lo: number, hi: number, count = Y_TICKS): { step: number; values: number[] } {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.01 || 1;
    return niceTicks(lo - pad, lo + pad, count);
  }
  const step = niceStep(hi - lo, count);
  const decimals = decimalsOf(step);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(Number((k * step).toFixed(decimals)));
  return { step, values };
}

const axisFormats = new Map<string, Intl.NumberFormat>();

/**
 * A price tick label with as many decimals as the step needs, so that every label of an axis has the same
 * precision and a round value reads round: "$0.0705", "$90,500".
 * @example axisPrice(0.0705, 0.0005, "usd") // "$0.0705"
 */
export function axisPrice(value: number, step: number, currency: string): string {
  const decimals = decimalsOf(step);
  const code = /^[a-z]{3}$/.test(currency) ? currency.toUpperCase() : "";
  const key = `${code}:${decimals}`;
  let format = axisFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat("en-US", {
      ...(code ? { style: "currency", currency: code, currencyDisplay: "narrowSymbol" } : {}),
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
    axisFormats.set(key, format);
  }
  return code ? format.format(value) : `${format.format(value)} ${currency.toUpperCase()}`;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Candidate spacings of time labels, shortest first; from a day up they fall on UTC midnights. */
const TIME_STEPS = [
  60_000,
  5 * 60_000,
  15 * 60_000,
  30 * 60_000,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  4 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  5 * DAY,
  7 * DAY,
  14 * DAY,
];
const hourFormat = new Intl.DateTimeFormat("en-US", {
  timeZone: "UTC",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const dayFormat = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", month: "short", day: "numeric" });

/**
 * Time labels for [t0, t1] at the shortest round spacing that gives at most `count` of them: hours of the day
 * under a day's spacing (with the date at midnight), dates from a day up (24h shows hours, 7d and 30d days).
 * @example timeTicks(now - 86_400_000, now).map((t) => t.label) // ["16:00", "20:00", "Nov 27", "04:00", …]
 */
export function timeTicks(t0: number, t1: number, count = X_TICKS): { t: number; label: string }[] {
  const span = t1 - t0;
  if (!(span > 0)) return [];
  const step = TIME_STEPS.find((candidate) => span / candidate <= count) ?? span / count;
  const ticks: { t: number; label: string }[] = [];
  // Strictly inside: a label at either end would spill past the plot.
  for (let t = Math.floor(t0 / step) * step + step; t < t1; t += step) {
    const label =
      step >= DAY || t % DAY === 0 ? dayFormat.format(t) : hourFormat.format(t).replace(/^24/, "00");
    ticks.push({ t, label });
  }
  return ticks;
}

/**
 * The sentence of a gap, for its band's tooltip and the list under the chart.
 * @example gapSentence({ from, to, ms: 1_800_000 }) // "No data from Nov 26, 14:00 to Nov 26, 14:30 UTC (30m 00s)"
 */
export function gapSentence(gap: ChartGap): string {
  return `No data from ${formatDateTime(gap.from)} to ${formatDateTime(gap.to)} UTC (${formatAge(gap.ms)})`;
}

/**
 * Lays out a series (oldest first) in the box: time on x over [from, to] (the data's own span by default),
 * price on y over round ticks that cover it; the line breaks at each gap, and an empty start is labelled.
 * @example chartModel([{ t: 0, p: 1 }, { t: 60_000, p: 2 }], "usd").count // 2
 */
export function chartModel(points: ChartPoint[], currency: string, options: ChartOptions = {}): ChartModel {
  const box = options.box ?? CHART_BOX;
  const first = points[0];
  const newest = points[points.length - 1];
  if (!first || !newest)
    return {
      count: 0,
      line: "",
      area: "",
      last: null,
      yTicks: [],
      xTicks: [],
      gaps: [],
      since: null,
      high: "—",
      low: "—",
      changePct: null,
      scale: null,
    };

  let t0 = Math.min(options.from ?? first.t, first.t);
  const t1 = Math.max(options.to ?? newest.t, newest.t);
  if (t1 <= t0) t0 = t1 - 60_000;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const { p } of points) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const ticks = niceTicks(min, max);
  const lo = ticks.values[0] as number;
  const hi = ticks.values[ticks.values.length - 1] as number;

  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = (t: number) => round(box.left + ((t - t0) / (t1 - t0)) * plotW);
  const y = (p: number) => round(box.top + (1 - (p - lo) / (hi - lo)) * plotH);
  const baseline = round(box.top + plotH);

  // Stretches of the line: a new one starts wherever a known gap lies between two neighbours.
  const gaps = options.gaps ?? [];
  const stretches: ChartPoint[][] = [[first]];
  for (let i = 1; i < points.length; i++) {
    const before = points[i - 1] as ChartPoint;
    const point = points[i] as ChartPoint;
    if (gaps.some((gap) => before.t <= gap.from && point.t >= gap.to)) stretches.push([]);
    (stretches[stretches.length - 1] as ChartPoint[]).push(point);
  }
  const line = stretches
    .map((stretch) => `M${stretch.map((point) => `${x(point.t)},${y(point.p)}`).join("L")}`)
    .join("");
  const area = stretches
    .map((stretch) => {
      const head = stretch[0] as ChartPoint;
      const tail = stretch[stretch.length - 1] as ChartPoint;
      const top = stretch.map((point) => `${x(point.t)},${y(point.p)}`).join("L");
      return `M${x(head.t)},${baseline}L${top}L${x(tail.t)},${baseline}Z`;
    })
    .join("");

  const yTicks = ticks.values.map((value) => ({
    at: percent(y(value), box.height),
    label: axisPrice(value, ticks.step, currency),
  }));
  // Labels too near either end would spill past the plot's edges.
  const xTicks = timeTicks(t0, t1)
    .map(({ t, label }) => ({ at: percent(x(t), box.width), label }))
    .filter((tick) => tick.at >= 3 && tick.at <= 95);
  const marks = gaps
    .filter((gap) => gap.to > t0 && gap.from < t1)
    .map((gap) => {
      const left = x(Math.max(gap.from, t0));
      return {
        ...gap,
        x: percent(left, box.width),
        width: percent(x(Math.min(gap.to, t1)) - left, box.width),
        title: gapSentence(gap),
      };
    });
  const late = first.t - t0 > (options.gapMs ?? DEFAULT_GAP_MS);

  return {
    count: points.length,
    line,
    area,
    last: position(newest, { t0, t1, lo, hi }, box),
    yTicks,
    xTicks,
    gaps: marks,
    since: late
      ? { x: percent(x(first.t), box.width), label: `data since ${formatDateTime(first.t)}` }
      : null,
    high: formatPrice(max, currency),
    low: formatPrice(min, currency),
    changePct: first.p > 0 ? ((newest.p - first.p) / first.p) * 100 : null,
    scale: { t0, t1, lo, hi },
  };
}

/**
 * The series as an attribute value, exact and compact: "t,p;t,p".
 * @example encodeSeries([{ t: 1, p: 0.5 }]) // "1,0.5"
 */
export function encodeSeries(points: ChartPoint[]): string {
  return points.map(({ t, p, h }) => (h ? `${t},${p},1` : `${t},${p}`)).join(";");
}

/**
 * Reads {@link encodeSeries} back, skipping anything malformed.
 * @example decodeSeries("1,0.5") // [{ t: 1, p: 0.5 }]
 */
export function decodeSeries(text: string | null | undefined): ChartPoint[] {
  if (!text) return [];
  const points: ChartPoint[] = [];
  for (const pair of text.split(";")) {
    const [t, p, h] = pair.split(",").map(Number);
    if (t !== undefined && p !== undefined && Number.isFinite(t) && Number.isFinite(p))
      points.push(h === 1 ? { t, p, h: true } : { t, p });
  }
  return points;
}

/**
 * Gaps as an attribute value, "from,to;from,to", for the browser script to break the line at the same places.
 * @example encodeGaps([{ from: 1, to: 9, ms: 8 }]) // "1,9"
 */
export function encodeGaps(gaps: readonly ChartGap[]): string {
  return gaps.map(({ from, to }) => `${from},${to}`).join(";");
}

/**
 * Reads {@link encodeGaps} back, skipping anything malformed.
 * @example decodeGaps("1,9") // [{ from: 1, to: 9, ms: 8 }]
 */
export function decodeGaps(text: string | null | undefined): ChartGap[] {
  return decodeSeries(text)
    .filter(({ t, p }) => p > t)
    .map(({ t, p }) => ({ from: t, to: p, ms: p - t }));
}

/**
 * What a live tick does to a chart's data: appended when newer than the last point, and a gap recorded when it
 * comes more than `gapMs` after it. For the browser script, so a live chart breaks its line as the server would.
 * @example ({ points, gaps } = appendPoint(points, gaps, { t, p }, 1_200_000));
 */
export function appendPoint(
  points: ChartPoint[],
  gaps: ChartGap[],
  point: ChartPoint,
  gapMs = DEFAULT_GAP_MS,
): { points: ChartPoint[]; gaps: ChartGap[] } {
  const last = points[points.length - 1];
  if (last && point.t <= last.t) return { points, gaps };
  return { points: [...points, point], gaps: last ? [...gaps, ...findGaps([last, point], gapMs)] : gaps };
}

/**
 * Accessible summary of a chart, rebuilt by the browser script after each live point.
 * @example chartLabel("Price of Beldex in USD over the last 24 hours", model) // "…: 120 points, low $0.0712, …"
 */
export function chartLabel(title: string, model: ChartModel): string {
  if (model.count === 0) return `${title}: no data yet`;
  const gaps =
    model.gaps.length === 0 ? "no gaps" : model.gaps.length === 1 ? "1 gap" : `${model.gaps.length} gaps`;
  const since = model.since ? `, ${model.since.label}` : "";
  return `${title}: ${model.count} points, low ${model.low}, high ${model.high}, ${formatChange(model.changePct).label}, ${gaps}${since}`;
}
