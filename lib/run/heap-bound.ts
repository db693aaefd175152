/**
 * A full garbage collection after every `everyTicks` ticks written (default 16,000, about 4 MiB of messages),
 * so that a backlog drains in bounded memory. JavaScriptCore collects its old generation only once the heap
 * has grown well past what it held after the last collection: on the 200,000-tick drain the heap went from
 * 12 to 44 MB between full collections, and the consumer's peak RSS with it (BENCHMARKS.md). At the live rate
 * (a few ticks a second) this is one collection every few minutes.
 * @example const bound = createHeapBound(); bound.written(ticks.length);
 */
export function createHeapBound(
  everyTicks = 16_000,
  collect: () => void = () => Bun.gc(true),
): { written(count: number): void } {
  let since = 0;
  return {
    written(count) {
      since += count;
      if (since < everyTicks) return;
      since = 0;
      collect();
    },
  };
}
