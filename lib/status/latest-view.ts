// The latest tick of every pair as /api/latest and /api/pairs answer it, held in process so that a request
// does no cache round trip and no JSON work: each answer is serialised, and its ETag computed, once per
// change. The consumer's own writes arrive at once; anything else (a pair another consumer of the group owns,
// a repair, a flush) is read from the cache, the source of truth, once the TTL has passed, so that no answer
// is staler than that. The view cannot tell which partitions this consumer owns (a rebalance moves them), so
// every pair is read again past its TTL; newest wins, so neither a read nor a write moves a price backwards.
import { type Tick, tickKey, tickTime } from "../tick.ts";
import type { Body } from "./bodies.ts";
import type { CacheReader } from "./sinks.ts";

/** How long a pair is answered from the view before the cache is read again: 1000 ms. */
export const LATEST_VIEW_TTL_MS = 1000;

/** A 200 answer made once: the JSON body and its strong ETag (SHA-1 of the body, as Hono's etag() makes it). */
export interface Answer {
  body: string;
  etag: string;
}

/** Port of the status API: the latest ticks, answered from memory, read from the cache past a TTL. */
export interface LatestView {
  /** Reads every pair the cache holds into the view (at start); throws SinkError when the cache fails. */
  fill(): Promise<void>;
  /** Takes ticks the consumer wrote to the cache: newest wins per pair, and they count as a fresh read. */
  apply(ticks: readonly Tick[]): void;
  /** The answer of `/api/latest/:asset?currency=`, or null when no sink knows the pair. */
  pair(asset: string, currency: string): Promise<Answer | null>;
  /** The answer of `/api/latest/:asset` (every currency), or null when the cache holds no pair of the asset. */
  asset(asset: string): Promise<Answer | null>;
  /** The answer of `/api/pairs`. */
  pairs(): Promise<Answer>;
}

/** Options of {@link createLatestView}. */
export interface LatestViewOptions {
  /** Where reads go: the status app's guarded cache, misses repaired. */
  cache: Pick<CacheReader, "get" | "pairs">;
  /** Where {@link LatestView.fill} reads. Default `cache`; the app passes the cache without repair. */
  fillFrom?: Pick<CacheReader, "get" | "pairs">;
  /**
   * Rebuilds the cache (bounded, never throws), run when an asset has no pair in the cache's list: the cache
   * may have lost that asset's keys only. Default none.
   */
  repair?: () => Promise<void>;
  /** Default {@link LATEST_VIEW_TTL_MS}. */
  ttlMs?: number;
  /** Monotonic clock in ms for the TTL. Default performance.now. */
  now?: () => number;
}

/** One pair held: its newest tick, serialised once, and when the cache (or a write of ours) last vouched for it. */
interface Entry {
  /** Its pair's key (tickKey). */
  key: string;
  tick: Tick;
  json: string;
  answer: Answer;
  checkedAt: number;
}

type Pair = { asset: string; currency: string };

/** The strong ETag Hono's etag() would compute for `body`, so that a client's validators survive the change. */
export function etagOf(body: string): string {
  return `"${new Bun.CryptoHasher("sha1").update(body).digest("hex")}"`;
}

const answerOf = (body: string): Answer => ({ body, etag: etagOf(body) });

// The order the caches list pairs in (sortPairs): asset, then currency.
const byPair = (a: Pair, b: Pair) => a.asset.localeCompare(b.asset) || a.currency.localeCompare(b.currency);

/**
 * An in-process latest view over `cache`. Reads of the same pair share one cache read.
 * @example
 * const view = createLatestView({ cache: ctx.cache, repair: ctx.repairLatest });
 * await view.fill();
 * writes.subscribe((tick) => view.apply([tick]));
 * const answer = await view.pair("beldex", "usd"); // { body, etag } or null
 */
export function createLatestView(options: LatestViewOptions): LatestView {
  const { cache } = options;
  const ttlMs = options.ttlMs ?? LATEST_VIEW_TTL_MS;
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, Entry>();
  const reading = new Map<string, Promise<Entry | null>>();

  // The pair list: every pair the cache listed or we wrote, and its answers, rebuilt when a pair is added.
  const listed = new Map<string, Pair>();
  let listedAt = Number.NEGATIVE_INFINITY;
  // The list read in flight and where from: a request never joins the fill's read, which skips the repair.
  let listing: { from: Pick<CacheReader, "pairs">; done: Promise<void> } | undefined;
  let pairsAnswer: Answer | undefined;
  let byAsset = new Map<string, Pair[]>();
  // Each asset's answer with the pair list and the entries it was made of, so that it is rebuilt only when one
  // of them changed, and given at once while the list and every entry are fresh.
  const assetAnswers = new Map<string, { pairs: Pair[]; parts: Entry[]; answer: Answer }>();

  const fresh = (checkedAt: number, at = now()) => at - checkedAt < ttlMs;

  const list = (pair: Pair) => {
    const key = tickKey(pair);
    if (listed.has(key)) return;
    listed.set(key, { asset: pair.asset, currency: pair.currency });
    pairsAnswer = undefined;
    byAsset = new Map();
  };

  // Newest wins: a tick replaces the held one only when it is strictly newer, as the cache's script does.
  const take = (tick: Tick, checkedAt: number): Entry => {
    const key = tickKey(tick);
    const held = entries.get(key);
    if (held && tickTime(tick) <= tickTime(held.tick)) {
      held.checkedAt = Math.max(held.checkedAt, checkedAt);
      return held;
    }
    const json = JSON.stringify(tick);
    const body = `{"asset":${JSON.stringify(tick.asset)},"ticks":[${json}]}`;
    const entry: Entry = { key, tick, json, answer: answerOf(body), checkedAt };
    entries.set(key, entry);
    list(tick);
    return entry;
  };

  const read = (from: Pick<CacheReader, "get">, asset: string, currency: string): Promise<Entry | null> => {
    const key = tickKey({ asset, currency });
    // Only requests share a read: one joining the fill's would miss the repair on a miss.
    const shared = from === cache;
    const pending = shared ? reading.get(key) : undefined;
    if (pending) return pending;
    const started = now();
    const promise = from
      .get(asset, currency)
      .then((tick) => {
        const held = entries.get(key);
        // A miss the repair could not fill leaves what the view saw written: it never moves backwards.
        if (!tick) {
          if (held) held.checkedAt = Math.max(held.checkedAt, started);
          return held ?? null;
        }
        return take(tick, started);
      })
      .finally(() => {
        if (reading.get(key) === promise) reading.delete(key);
      });
    if (shared) reading.set(key, promise);
    return promise;
  };

  const entryOf = (asset: string, currency: string): Entry | null | Promise<Entry | null> => {
    const held = entries.get(tickKey({ asset, currency }));
    return held && fresh(held.checkedAt) ? held : read(cache, asset, currency);
  };

  const refreshList = (from: Pick<CacheReader, "pairs">): Promise<void> => {
    if (listing?.from === from) return listing.done;
    const started = now();
    const done = from
      .pairs()
      .then((pairs) => {
        for (const pair of pairs) list(pair);
        listedAt = Math.max(listedAt, started);
      })
      .finally(() => {
        if (listing?.done === done) listing = undefined;
      });
    listing = { from, done };
    return done;
  };

  // An empty list is never trusted: the repairing cache rebuilds an emptied cache on the next read of it.
  const currentList = async (force = false) => {
    if (force || listed.size === 0 || !fresh(listedAt)) await refreshList(cache);
  };

  const pairsOf = (asset: string): Pair[] => {
    let pairs = byAsset.get(asset);
    if (!pairs) {
      pairs = [...listed.values()].filter((pair) => pair.asset === asset).sort(byPair);
      byAsset.set(asset, pairs);
    }
    return pairs;
  };

  const assetAnswer = (asset: string, pairs: Pair[], parts: Entry[]): Answer => {
    const memo = assetAnswers.get(asset);
    if (memo && memo.parts.length === parts.length && memo.parts.every((entry, i) => entry === parts[i])) {
      memo.pairs = pairs;
      return memo.answer;
    }
    const body = `{"asset":${JSON.stringify(asset)},"ticks":[${parts.map((entry) => entry.json).join(",")}]}`;
    const answer = answerOf(body);
    assetAnswers.set(asset, { pairs, parts, answer });
    return answer;
  };

  // The asset's answer as it stands, without a cache read or a wait: its list unchanged since, every pair in it
  // held, and all of it within the TTL. Else undefined, and the answer is made again.
  const heldAnswer = (asset: string): Answer | undefined => {
    const memo = assetAnswers.get(asset);
    if (!memo || memo.pairs !== byAsset.get(asset) || memo.parts.length !== memo.pairs.length)
      return undefined;
    // One clock read for the list and every entry: six of them were about 5% of this route's CPU profile.
    const at = now();
    if (listed.size === 0 || !fresh(listedAt, at)) return undefined;
    for (const entry of memo.parts)
      if (!fresh(entry.checkedAt, at) || entries.get(entry.key) !== entry) return undefined;
    return memo.answer;
  };

  return {
    async fill() {
      const from = options.fillFrom ?? cache;
      await refreshList(from);
      await Promise.all([...listed.values()].map(({ asset, currency }) => read(from, asset, currency)));
    },
    apply(ticks) {
      const at = now();
      for (const tick of ticks) take(tick, at);
    },
    async pair(asset, currency) {
      return (await entryOf(asset, currency))?.answer ?? null;
    },
    async asset(asset) {
      const held = heldAnswer(asset);
      if (held) return held;
      await currentList();
      let pairs = pairsOf(asset);
      if (pairs.length === 0 && options.repair) {
        await options.repair();
        await currentList(true);
        pairs = pairsOf(asset);
      }
      if (pairs.length === 0) return null;
      const found = await Promise.all(pairs.map(({ currency }) => entryOf(asset, currency)));
      const parts = found.filter((entry): entry is Entry => entry !== null);
      return parts.length > 0 ? assetAnswer(asset, pairs, parts) : null;
    },
    async pairs() {
      await currentList();
      pairsAnswer ??= answerOf(
        JSON.stringify({ pairs: [...listed.values()].sort(byPair) } satisfies Body<"Pairs">),
      );
      return pairsAnswer;
    },
  };
}
