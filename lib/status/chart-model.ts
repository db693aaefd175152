// Geometry and labels of the price chart, as plain data. The server renders it as SVG (chart.tsx); the browser
// script recomputes it from the same series after each live tick, so both draw the exact same chart.
import { formatChange, formatDateTime, formatPrice, formatTime } from "./format.ts";

/** One chart point: epoch milliseconds and price. */
export interface ChartPoint {
  t: number;
  p: number;
}

/**
 * User space of the plot, which the page stretches to the chart's size (so labels, drawn outside it in CSS
 * pixels, stay crisp on any screen); the margins keep the line and its end dot off the frame.
 */
export const CHART_BOX = { width: 1000, height: 400, top: 36, bottom: 16, left: 0, right: 16 } as const;
/** Shape of {@link CHART_BOX}. */
export type ChartBox = { [K in keyof typeof CHART_BOX]: number };

/** Horizontal grid lines (with price labels), top to bottom. */
export const Y_TICKS = 4;
/** Time labels under the plot: start, middle, end (spread evenly, so they need no position). */
const X_TICKS = 3;

/** A label at a position along one axis. */
export interface AxisTick {
  /** Position in percent of the box (x for time ticks, y for price ticks). */
  at: number;
  label: string;
}

/** Everything needed to draw the chart; empty strings and nulls when there are no points. */
export interface ChartModel {
  count: number;
  /** `points` of the polyline: "x,y x,y …". */
  line: string;
  /** `d` of the filled area under the line. */
  area: string;
  /** The newest point, marked with a dot, in percent of the box. */
  last: { x: number; y: number } | null;
  yTicks: AxisTick[];
  xTicks: AxisTick[];
  /** Highest and lowest price in the series, formatted. */
  high: string;
  low: string;
  /** Change from the first to the last point, in percent. */
  changePct: number | null;
  /** Time and (padded) price domains, to place any point of the series, e.g. under the pointer. */
  scale: ChartScale | null;
}

/** Time (epoch ms) and price domains of a chart. */
export interface ChartScale {
  t0: number;
  t1: number;
  lo: number;
  hi: number;
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
 * Lays out a series (oldest first) in the box: time on x, price on y with 8% headroom so the line never
 * touches the frame; a flat or single-point series still gets a visible band.
 * @example chartModel([{ t: 0, p: 1 }, { t: 60_000, p: 2 }], "usd").count // 2
 */
export function chartModel(points: ChartPoint[], currency: string, box: ChartBox = CHART_BOX): ChartModel {
  const empty: ChartModel = {
    count: 0,
    line: "",
    area: "",
    last: null,
    // Blank ticks keep the same elements in the page, so the first live point can fill them in.
    yTicks: Array.from({ length: Y_TICKS }, (_, i) => ({
      at: percent(((i + 0.5) / Y_TICKS) * 100, 100),
      label: "",
    })),
    xTicks: Array.from({ length: X_TICKS }, (_, i) => ({ at: (i / (X_TICKS - 1)) * 100, label: "" })),
    high: "—",
    low: "—",
    changePct: null,
    scale: null,
  };
  const first = points[0];
  const newest = points[points.length - 1];
  if (!first || !newest) return empty;

  let t0 = first.t;
  const t1 = newest.t;
  if (t1 <= t0) t0 = t1 - 60_000;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const { p } of points) {
    if (p < min) min = p;
    if (p > max) max = p;
  }
  const span = max - min;
  const pad = span > 0 ? span * 0.08 : Math.abs(max) * 0.01 || 1;
  const lo = min - pad;
  const hi = max + pad;

  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const x = (t: number) => round(box.left + ((t - t0) / (t1 - t0)) * plotW);
  const y = (p: number) => round(box.top + (1 - (p - lo) / (hi - lo)) * plotH);

  const coords = points.map((point) => `${x(point.t)},${y(point.p)}`);
  const baseline = round(box.top + plotH);
  const area = `M${x(first.t)},${baseline}L${coords.join("L")}L${x(t1)},${baseline}Z`;

  const yTicks: AxisTick[] = [];
  for (let i = 0; i < Y_TICKS; i++) {
    const value = hi - ((hi - lo) * (i + 0.5)) / Y_TICKS;
    yTicks.push({ at: percent(y(value), box.height), label: formatPrice(value, currency) });
  }
  const timeLabel = t1 - t0 >= 20 * 3_600_000 ? formatDateTime : formatTime;
  const xTicks: AxisTick[] = [];
  for (let i = 0; i < X_TICKS; i++) {
    const t = t0 + ((t1 - t0) * i) / (X_TICKS - 1);
    xTicks.push({ at: percent(x(t), box.width), label: timeLabel(t) });
  }

  return {
    count: points.length,
    line: coords.join(" "),
    area,
    last: position(newest, { t0, t1, lo, hi }, box),
    yTicks,
    xTicks,
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
  return points.map(({ t, p }) => `${t},${p}`).join(";");
}

/**
 * Reads {@link encodeSeries} back, skipping anything malformed.
 * @example decodeSeries("1,0.5") // [{ t: 1, p: 0.5 }]
 */
export function decodeSeries(text: string | null | undefined): ChartPoint[] {
  if (!text) return [];
  const points: ChartPoint[] = [];
  for (const pair of text.split(";")) {
    const [t, p] = pair.split(",").map(Number);
    if (t !== undefined && p !== undefined && Number.isFinite(t) && Number.isFinite(p)) points.push({ t, p });
  }
  return points;
}

/**
 * Accessible summary of a chart, rebuilt by the browser script after each live point.
 * @example chartLabel("Price of Beldex in USD over the last 24 hours", model) // "…: 120 points, low $0.0712, …"
 */
export function chartLabel(title: string, model: ChartModel): string {
  if (model.count === 0) return `${title}: no data yet`;
  return `${title}: ${model.count} points, low ${model.low}, high ${model.high}, ${formatChange(model.changePct).label}`;
}
