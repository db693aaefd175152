// Reuse of the rendered page between ticks: under load most requests find the page another one just rendered.
// A page is kept for one key (pair and range) while what it shows is the same (its stamp: every pair's newest
// tick, whether the cache answered, which dependencies are down, the data's freshness) and for at most
// `maxAgeMs`, so that its counters and ages are never older than that (the browser script ticks the ages on).

/** Rendered pages kept per key and stamp. */
export interface PageCache {
  /**
   * The page kept for `key` when it was rendered for the same `stamp` less than `maxAgeMs` ago; else
   * `render()`'s, kept in its place. Concurrent callers share one render; a failed render is not kept.
   */
  get(key: string, stamp: string, render: () => Promise<string>): Promise<string>;
  /** How many renders ran, for tests and benchmarks. */
  readonly renders: number;
}

/**
 * A page cache. Defaults: at most 200 keys (the oldest dropped), pages kept at most 1 s.
 * @example const pages = createPageCache({ now: ctx.now }); await pages.get("beldex:usd|24h", stamp, render);
 */
export function createPageCache(options: {
  now: () => number;
  maxAgeMs?: number;
  maxKeys?: number;
}): PageCache {
  const maxAgeMs = options.maxAgeMs ?? 1_000;
  const maxKeys = options.maxKeys ?? 200;
  const pages = new Map<string, { stamp: string; at: number; html: Promise<string> }>();
  let renders = 0;
  return {
    get(key, stamp, render) {
      const now = options.now();
      const kept = pages.get(key);
      if (kept && kept.stamp === stamp && now - kept.at < maxAgeMs) return kept.html;
      if (!kept && pages.size >= maxKeys) pages.delete(pages.keys().next().value as string);
      renders++;
      const html = render();
      const entry = { stamp, at: now, html };
      pages.set(key, entry);
      html.catch(() => {
        if (pages.get(key) === entry) pages.delete(key);
      });
      return html;
    },
    get renders() {
      return renders;
    },
  };
}
