import { describe, expect, test } from "bun:test";
import { createLogger } from "../lib/log.ts";
import { createSkipTracker } from "../lib/pipeline/skip-tracker.ts";

/** A tracker on a hand-moved clock, with the log lines it wrote. */
function setup(configured?: { assets: string[]; currencies: string[] }) {
  let now = Date.parse("2026-11-26T18:00:00Z");
  const lines: { level: string; msg: string; [key: string]: unknown }[] = [];
  const log = createLogger({ level: "debug", sink: (line) => lines.push(JSON.parse(line)) });
  const tracker = createSkipTracker({ log, configured, now: () => now });
  return {
    tracker,
    lines,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const MINUTE = 60_000;

describe("skip tracker", () => {
  test("warns once when a pair starts being skipped, not again while the reason stays", () => {
    const { tracker, lines } = setup();
    for (let cycle = 0; cycle < 5; cycle++)
      tracker.observe({
        publishedPairs: ["beldex:usd"],
        skipped: [{ pair: "nosuchcoin:usd", reason: "unknown id" }],
      });
    expect(lines).toEqual([
      expect.objectContaining({ level: "warn", pair: "nosuchcoin:usd", reason: "unknown id" }),
    ]);
    expect(lines[0]).not.toHaveProperty("previousReason");
  });

  test("warns again, naming the previous reason, when the reason changes", () => {
    const { tracker, lines } = setup();
    const skip = (reason: string) =>
      tracker.observe({ publishedPairs: [], skipped: [{ pair: "beldex:eur", reason }] });
    skip("currency missing");
    skip("currency missing");
    skip("price missing");
    skip("price missing");
    expect(lines.map((l) => [l.level, l.reason, l.previousReason])).toEqual([
      ["warn", "currency missing", undefined],
      ["warn", "price missing", "currency missing"],
    ]);
  });

  test("logs one info line when a skipped pair publishes again, then nothing while it keeps publishing", () => {
    const { tracker, lines, advance } = setup();
    tracker.observe({ publishedPairs: [], skipped: [{ pair: "beldex:usd", reason: "price missing" }] });
    advance(10 * MINUTE);
    tracker.observe({ publishedPairs: ["beldex:usd"], skipped: [] });
    tracker.observe({ publishedPairs: ["beldex:usd"], skipped: [] });
    expect(lines.map((l) => l.level)).toEqual(["warn", "info"]);
    expect(lines[1]).toMatchObject({ pair: "beldex:usd", skippedReason: "price missing", skippedForS: 600 });
  });

  test("a tick resent from the outbox does not count as recovery while the source still skips the pair", () => {
    const { tracker, lines } = setup();
    const outcome = {
      publishedPairs: ["beldex:usd"],
      skipped: [{ pair: "beldex:usd", reason: "price missing" }],
    };
    tracker.observe(outcome);
    tracker.observe(outcome);
    expect(lines.map((l) => l.level)).toEqual(["warn"]);
  });

  test("a pair skipped again after recovering warns again", () => {
    const { tracker, lines } = setup();
    const skipped = { publishedPairs: [], skipped: [{ pair: "beldex:usd", reason: "price missing" }] };
    tracker.observe(skipped);
    tracker.observe({ publishedPairs: ["beldex:usd"], skipped: [] });
    tracker.observe(skipped);
    expect(lines.map((l) => l.level)).toEqual(["warn", "info", "warn"]);
  });

  test("a configured pair that never published is stale only once the window since start has passed", () => {
    const { tracker, advance } = setup({ assets: ["beldex", "nosuchcoin"], currencies: ["usd"] });
    expect(tracker.stale(20 * MINUTE)).toEqual([]);
    tracker.observe({
      publishedPairs: ["beldex:usd"],
      skipped: [{ pair: "nosuchcoin:usd", reason: "unknown id" }],
    });
    advance(20 * MINUTE);
    expect(tracker.stale(20 * MINUTE)).toEqual([]);
    tracker.observe({
      publishedPairs: ["beldex:usd"],
      skipped: [{ pair: "nosuchcoin:usd", reason: "unknown id" }],
    });
    advance(1);
    expect(tracker.stale(20 * MINUTE)).toEqual([
      { pair: "nosuchcoin:usd", reason: "unknown id", lastPublishedAgeS: null },
    ]);
  });

  test("a configured pair no cycle names is stale without a reason", () => {
    const { tracker, advance } = setup({ assets: ["beldex"], currencies: ["usd", "eur"] });
    advance(21 * MINUTE);
    tracker.observe({ publishedPairs: ["beldex:usd"], skipped: [] });
    expect(tracker.stale(20 * MINUTE)).toEqual([
      { pair: "beldex:eur", reason: null, lastPublishedAgeS: null },
    ]);
  });

  test("a pair that stopped publishing is stale with its age and reason", () => {
    const { tracker, advance } = setup();
    tracker.observe({ publishedPairs: ["beldex:usd"], skipped: [] });
    advance(10 * MINUTE);
    tracker.observe({ publishedPairs: [], skipped: [{ pair: "beldex:usd", reason: "price not positive" }] });
    advance(11 * MINUTE);
    expect(tracker.stale(20 * MINUTE)).toEqual([
      { pair: "beldex:usd", reason: "price not positive", lastPublishedAgeS: 1260 },
    ]);
  });

  test("a pair first named by a later cycle counts its age from that cycle", () => {
    const { tracker, advance } = setup();
    advance(30 * MINUTE);
    tracker.observe({ publishedPairs: [], skipped: [{ pair: "nosuchcoin:usd", reason: "unknown id" }] });
    advance(10 * MINUTE);
    expect(tracker.stale(20 * MINUTE)).toEqual([]);
  });
});
