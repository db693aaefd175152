/**
 * The demo's make-believe market: one USD price path per asset, a random walk in log price scaled to the time
 * passed, remembered at about one point per step so that the backfill and the 24 h change read the same past.
 */
import { DEMO_DAILY_VOLATILITY, demoSeed } from "./seeds.ts";

/** One day in milliseconds: the span of a 24 h change. */
export const DAY_MS = 86_400_000;
/** Spacing of the remembered prices: the backfill's step and the resolution of the 24 h reference. */
const DEMO_STEP_MS = 600_000;
/** How far back the market remembers by default: two days, so a day of backfill has its own 24 h changes. */
const DEMO_HISTORY_MS = 2 * DAY_MS;

/** Options of {@link createDemoMarket}. */
export interface DemoMarketOptions {
  /** Asset ids to walk. */
  ids: readonly string[];
  /** Epoch ms of the starting prices (each id's seed price). */
  at: number;
  /** Uniform random in [0, 1); default Math.random. */
  random?: () => number;
  /** How much past to make up at the start and keep; default {@link DEMO_HISTORY_MS}. */
  historyMs?: number;
  /** Spacing of remembered prices; default {@link DEMO_STEP_MS}. */
  stepMs?: number;
}

/** A running demo market. */
export interface DemoMarket {
  /** Asset ids it walks. */
  readonly ids: readonly string[];
  /** Epoch ms of the current prices. */
  readonly at: number;
  /** Spacing of remembered prices, in ms. */
  readonly stepMs: number;
  /** Walks every price forward to `at`; a time at or before the current one changes nothing. */
  advance(at: number): void;
  /**
   * The USD price of `id` at `at`: the last one known at or before it (the oldest remembered for an earlier
   * time), or undefined for an id the market does not walk.
   */
  usdAt(id: string, at: number): number | undefined;
}

interface Point {
  at: number;
  usd: number;
}

/**
 * Starts a market at each id's seed price, with `historyMs` of made-up past walked backwards from it on
 * step boundaries (the latest boundary before `at` holds the seed price itself, so the past ends exactly at
 * the current prices).
 * @example const market = createDemoMarket({ ids: ["beldex", "bitcoin"], at: Date.now() });
 */
export function createDemoMarket(options: DemoMarketOptions): DemoMarket {
  const random = options.random ?? Math.random;
  const step = options.stepMs ?? DEMO_STEP_MS;
  const keep = options.historyMs ?? DEMO_HISTORY_MS;
  const ids = [...new Set(options.ids)];
  const volatility = new Map(ids.map((id) => [id, demoSeed(id).volatility ?? DEMO_DAILY_VOLATILITY]));
  // Log-price move over `ms`: uniform with unit variance times sigma·sqrt(days), so any interval is fair.
  const move = (id: string, ms: number) =>
    Math.exp((volatility.get(id) ?? 0) * Math.sqrt(ms / DAY_MS) * (random() * 2 - 1) * Math.sqrt(3));

  const start = options.at;
  const paths = new Map<string, Point[]>();
  const latestBoundary = Math.ceil(start / step) * step - step;
  for (const id of ids) {
    const seed = demoSeed(id).usd;
    const past: Point[] = [];
    let usd = seed;
    for (let at = latestBoundary; at >= start - keep; at -= step) {
      past.push({ at, usd });
      usd /= move(id, step);
    }
    paths.set(id, [...past.reverse(), { at: start, usd: seed }]);
  }

  let now = start;
  return {
    ids,
    stepMs: step,
    get at() {
      return now;
    },
    advance(at) {
      if (!(at > now)) return;
      for (const [id, path] of paths) {
        const head = path[path.length - 1] as Point;
        const before = path[path.length - 2];
        // The old head stays only when it is a step past the point before it: about one point per step.
        if (before && head.at - before.at < step) path.pop();
        path.push({ at, usd: head.usd * move(id, at - head.at) });
        while (path.length > 2 && (path[1] as Point).at <= at - keep) path.shift();
      }
      now = at;
    },
    usdAt(id, at) {
      const path = paths.get(id);
      if (!path) return undefined;
      return (path[lastAtOrBefore(path, at)] as Point).usd;
    },
  };
}

/** Index of the last point at or before `at` in an ascending path, or 0 when every point is later. */
function lastAtOrBefore(path: Point[], at: number): number {
  let low = 0;
  let high = path.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((path[mid] as Point).at <= at) low = mid;
    else high = mid - 1;
  }
  return low;
}
