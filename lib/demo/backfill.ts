/**
 * A day of made-up history for `--demo`, read from the demo source's own market, so that a fresh demo shows
 * a chart at once and the chart ends where the live prices start.
 */
import type { Tick } from "../tick.ts";
import { DAY_MS } from "./market.ts";
import type { DemoSource } from "./source.ts";
import { demoTicks } from "./ticks.ts";

/** Options of {@link demoBackfill}; all optional. */
export interface DemoBackfillOptions {
  /** Epoch ms the history ends before; default the market's current time. */
  endMs?: number;
  /** Length of the history; default one day. */
  spanMs?: number;
  /** Time between ticks of one pair; default the market's step (10 minutes). */
  stepMs?: number;
}

/**
 * The source's pairs on step boundaries over `spanMs` before `endMs` (by default 144 ticks per pair, the last
 * at the latest 10-minute boundary before now, priced exactly as the source prices now), oldest first, every
 * tick `source: "demo"`. The timestamps sit on boundaries, so a restart within a step publishes the same
 * identities and the history keeps one of each. Pairs the source skips are left out.
 * @example await publisher.publish(demoBackfill(source));
 */
export function demoBackfill(source: DemoSource, options: DemoBackfillOptions = {}): Tick[] {
  const { market } = source;
  const end = options.endMs ?? market.at;
  const span = options.spanMs ?? DAY_MS;
  const step = options.stepMs ?? market.stepMs;
  const last = Math.ceil(end / step) * step - step;
  const ticks: Tick[] = [];
  for (let at = last - span + step; at <= last; at += step)
    ticks.push(...demoTicks(market, source, at).ticks);
  return ticks;
}
