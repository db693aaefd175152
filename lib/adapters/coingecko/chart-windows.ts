/**
 * Which /coins/{id}/market_chart/range windows give the finest points CoinGecko serves, from its documented
 * automatic granularity: a window of at most one day ending now gives 5-minutely points; any other window of
 * up to 90 days gives hourly ones (a past day alone is hourly too, so splitting older spans finer gains
 * nothing); a longer window only daily ones. So: the last day in one window, the rest in 90-day windows.
 */
import type { ChartWindow } from "../../ports.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The longest window CoinGecko still answers hourly: 90 days. */
export const MAX_HOURLY_WINDOW_MS = 90 * DAY_MS;
/** CoinGecko's finest automatic spacing: 5 minutes, within the last day. */
export const FINEST_SPACING_MS = 5 * 60_000;
/** How close to now a window must end to count as "ending now" (5-minutely): 5 minutes. */
const NOW_TOLERANCE_MS = 5 * 60_000;

/**
 * The windows for [from, to] seen at `now`, oldest first. The 5-minutely window starts on the first whole hour
 * within the last day, so that a rerun within the hour asks exactly the same windows (and the sinks keep what
 * they have), and a later one moves only by whole hours, whose hourly points the 5-minutely ones include.
 * @example chartWindows(now - 30 * DAY_MS, now, now) // [{ 29 days, "1h" }, { 23-24 h, "5m", closed }]
 */
export function chartWindows(from: number, to: number, now: number): ChartWindow[] {
  if (!(to > from)) return [];
  const endsNow = to >= now - NOW_TOLERANCE_MS;
  const recentStart = endsNow ? Math.max(from, Math.ceil((now - DAY_MS) / HOUR_MS) * HOUR_MS) : to;
  const windows: ChartWindow[] = [];
  for (let start = from; start < recentStart; start += MAX_HOURLY_WINDOW_MS) {
    const end = Math.min(recentStart, start + MAX_HOURLY_WINDOW_MS);
    windows.push({ from: start, to: end, closed: !endsNow && end === to, granularity: "1h" });
  }
  if (endsNow) windows.push({ from: recentStart, to, closed: true, granularity: "5m" });
  return windows;
}
