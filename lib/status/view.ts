// Display values of ticks and health, computed once on the server and used both by the page and by the live
// stream's events, so that the browser only copies text (never markup) into the page.
import type { Tick } from "../tick.ts";
import { tickKey, tickTime } from "../tick.ts";
import { type DependencyView, dependencyViews, downDetails, downSummary } from "./dependency-view.ts";
import {
  type ChangeView,
  displayName,
  formatAge,
  formatChange,
  formatCompact,
  formatCount,
  formatPrice,
  formatTime,
} from "./format.ts";
import type { Freshness, StatusSnapshot } from "./snapshot.ts";

/** One pair's latest price, formatted. */
export interface CardView {
  /** "beldex:usd". */
  pair: string;
  asset: string;
  currency: string;
  /** "Beldex". */
  name: string;
  /** Raw values, for the chart and the table's change column. */
  t: number;
  p: number;
  price: string;
  change: ChangeView;
  marketCap: string;
  volume: string;
  /** Source time, "18:03:00" (UTC), and the same as ISO for <time datetime>. */
  time: string;
  iso: string;
  /** Where the tick came from (free text from the message: always rendered as text, never as markup). */
  source: string;
}

/**
 * Formats a tick for a price card.
 * @example cardView(tick).price // "$0.07123"
 */
export function cardView(tick: Tick): CardView {
  const t = tickTime(tick);
  return {
    pair: tickKey(tick),
    asset: tick.asset,
    currency: tick.currency,
    name: displayName(tick.asset),
    t,
    p: tick.price,
    price: formatPrice(tick.price, tick.currency),
    change: formatChange(tick.change24hPct),
    marketCap: formatCompact(tick.marketCap, tick.currency),
    volume: formatCompact(tick.volume24h, tick.currency),
    time: formatTime(t),
    iso: new Date(t).toISOString(),
    source: tick.source,
  };
}

/** One pair of the selector. */
export interface PairOption {
  /** "beldex:usd". */
  pair: string;
  currency: string;
  /** "USD". */
  code: string;
  /** Whether the cache holds a price for it (a configured pair may have none yet). */
  priced: boolean;
}

/** The selector's row of one asset: its name and its currencies. */
export interface PairGroup {
  asset: string;
  /** "Beldex". */
  name: string;
  options: PairOption[];
}

/**
 * Every pair the page offers: the configured ones first, in their order, then those only the cache holds.
 * @example pairOrder(["bitcoin:usd"], ["beldex:usd", "bitcoin:usd"]) // ["bitcoin:usd", "beldex:usd"]
 */
export function pairOrder(configured: string[], cached: string[]): string[] {
  return [...new Set([...configured, ...cached])];
}

/**
 * The pair the page opens on: the first of `order` that has a price, so that a configured id CoinGecko never
 * answered does not leave the page blank; the first of `order` when none has one; null when there is none.
 * @example defaultPair(["bitcoin:usd", "beldex:usd"], new Set(["beldex:usd"])) // "beldex:usd"
 */
export function defaultPair(order: string[], priced: ReadonlySet<string>): string | null {
  return order.find((pair) => priced.has(pair)) ?? order[0] ?? null;
}

/**
 * Groups pairs by asset for the selector, keeping the order of `order` (an asset's row sits where its first
 * pair does).
 * @example pairGroups(["bitcoin:usd", "bitcoin:eur"], new Set())[0].options.length // 2
 */
export function pairGroups(order: string[], priced: ReadonlySet<string>): PairGroup[] {
  const groups = new Map<string, PairGroup>();
  for (const pair of order) {
    const [asset = "", currency = ""] = pair.split(":");
    let group = groups.get(asset);
    if (!group) {
      group = { asset, name: displayName(asset), options: [] };
      groups.set(asset, group);
    }
    group.options.push({ pair, currency, code: currency.toUpperCase(), priced: priced.has(pair) });
  }
  return [...groups.values()];
}

/** The pipeline health panel, formatted. */
export interface HealthView {
  state: Freshness["state"];
  /** Age of the newest tick when computed (the browser adds the time elapsed since). */
  ageMs: number | null;
  age: string;
  staleAfterMs: number;
  staleAfter: string;
  consumed: string;
  written: string;
  duplicates: string;
  deadLettered: string;
  sinkErrors: string;
  /** Consumer lag in messages, "—" when unknown. */
  lag: string;
  lastBatch: string;
  uptime: string;
  sinkDown: boolean;
  /** Every dependency of the consumer (history, cache, dlq), up or down. */
  dependencies: DependencyView[];
  /** Headline naming each down dependency and its fix (shown instead of "Live"), or null when all are up. */
  down: string | null;
  /** One sentence per down dependency (since when, error, fix), for the health panel's alert. */
  downDetails: string[];
  demo: boolean;
}

/**
 * Formats a snapshot's health for the panel and the live stream.
 * @example healthView(await takeSnapshot(ctx)).age // "12s"
 */
export function healthView({ health, freshness, now }: StatusSnapshot): HealthView {
  const { metrics } = health;
  return {
    state: freshness.state,
    ageMs: freshness.ageMs,
    age: formatAge(freshness.ageMs),
    staleAfterMs: freshness.staleAfterMs,
    staleAfter: formatAge(freshness.staleAfterMs),
    consumed: formatCount(metrics.consumed),
    written: formatCount(metrics.written),
    duplicates: formatCount(metrics.duplicates),
    deadLettered: formatCount(metrics.deadLettered),
    sinkErrors: formatCount(metrics.sinkErrors),
    lag: health.lag === null ? "—" : formatCount(health.lag),
    lastBatch: metrics.batches > 0 ? `${formatCount(metrics.lastBatchMs)} ms` : "—",
    uptime: formatAge(now - health.startedAt),
    sinkDown: metrics.sinkDown,
    dependencies: dependencyViews(metrics),
    down: downSummary(metrics),
    downDetails: downDetails(metrics, now),
    demo: health.demo === true,
  };
}

/** Payload of a `tick` event of the live stream. */
export interface TickEvent {
  card: CardView;
  health: HealthView;
}
