// Many assets: /simple/price ids in chunks of bounded count and URL length, every chunk of a cycle within the
// request budget, and a failed chunk skipping only its own pairs.
import { afterEach, describe, expect, test } from "bun:test";
import { chunkIds, MAX_IDS_PER_REQUEST, MAX_URL_LENGTH } from "../lib/adapters/coingecko/chunks.ts";
import { createCoinGeckoSource, simplePriceUrl } from "../lib/adapters/coingecko/source.ts";
import { SourceError } from "../lib/errors.ts";
import { silentLogger } from "../lib/log.ts";
import { createRequestBudget } from "../lib/request-budget.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";

const BASE = "https://api.coingecko.com/api/v3";
const CURRENCIES = ["usd", "eur", "btc"];
const IDS = Array.from({ length: 1000 }, (_, i) => `coin-${String(i).padStart(4, "0")}`);

let fake: FakeCoinGecko | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

/** A clock that only moves when the budget sleeps, shared by the fake and the budget. */
function virtualClock() {
  const clock = { now: Date.parse("2026-11-26T18:00:00Z") };
  return {
    clock,
    now: () => clock.now,
    sleep: async (ms: number) => {
      clock.now += ms;
    },
  };
}

async function fakeWith(ids: string[], now: () => number, callsPerMinute: number) {
  fake = await startFakeCoinGecko({ book: {}, now, callsPerMinute });
  for (const [i, id] of ids.entries())
    for (const currency of CURRENCIES) fake.setPrice(id, currency, { price: 1 + i, marketCap: 1e6 });
  return fake;
}

describe("chunkIds", () => {
  test("keeps every id once, in order, each chunk within the id count and the URL length", () => {
    const urlOf = (chunk: readonly string[]) => simplePriceUrl(BASE, chunk, CURRENCIES);
    const chunks = chunkIds(IDS, urlOf);
    expect(chunks.flat()).toEqual(IDS);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(MAX_IDS_PER_REQUEST);
      expect(urlOf(chunk).length).toBeLessThanOrEqual(MAX_URL_LENGTH);
    }
    // Each next chunk would have taken the first id of the next one had it fitted.
    for (let i = 0; i + 1 < chunks.length; i++)
      expect(urlOf([...(chunks[i] ?? []), chunks[i + 1]?.[0] ?? ""]).length).toBeGreaterThan(MAX_URL_LENGTH);
    // 1,000 ids of 9 characters: the URL length binds before the id count.
    expect(chunks).toHaveLength(6);
  });

  test("the id count binds when ids are short", () => {
    const short = Array.from({ length: 600 }, (_, i) => `c${i}`);
    const chunks = chunkIds(short, (c) => simplePriceUrl(BASE, c, ["usd"]), 250, 100_000);
    expect(chunks.map((c) => c.length)).toEqual([250, 250, 100]);
  });

  test("one id too long for the URL limit still goes, alone", () => {
    const chunks = chunkIds(
      ["a", "b".repeat(50), "c"],
      (c) => `${BASE}?ids=${c.join(",")}`,
      250,
      BASE.length + 10,
    );
    expect(chunks).toEqual([["a"], ["b".repeat(50)], ["c"]]);
  });
});

describe("CoinGecko source with many assets", () => {
  test("1,000 ids in 3 currencies: every pair priced in chunks, never more calls per minute than the budget", async () => {
    const v = virtualClock();
    const f = await fakeWith(IDS, v.now, 4);
    const budget = createRequestBudget({ callsPerMinute: 4, now: v.now, sleep: v.sleep });
    const source = createCoinGeckoSource({
      assets: IDS,
      currencies: CURRENCIES,
      plan: "public",
      baseUrl: f.url,
      log: silentLogger,
      budget,
      now: () => new Date(v.now()),
    });
    const started = v.now();
    const { ticks, skipped } = await source.fetch();
    expect(skipped).toEqual([]);
    expect(ticks).toHaveLength(3000);
    const requests = f.requests.filter((r) => r.path.endsWith("/simple/price"));
    const expected = chunkIds(IDS, (chunk) => simplePriceUrl(f.url, chunk, CURRENCIES)).length;
    expect(expected).toBe(6);
    expect(requests).toHaveLength(expected);
    for (const r of requests) {
      expect(r.url.length).toBeLessThanOrEqual(MAX_URL_LENGTH);
      expect(r.query.vs_currencies).toBe("usd,eur,btc");
    }
    expect(f.rate).toMatchObject({ total: 6, limited: 0 });
    expect(f.rate.peakPerMinute).toBeLessThanOrEqual(4);
    expect(budget.peak).toBe(4);
    // 6 calls at 4 a minute: the last 2 wait one window (and the margin) for the first ones to return.
    expect(v.now() - started).toBe(61_000);
  });

  test("a failed chunk skips only its own pairs, with its reason; the others publish", async () => {
    const v = virtualClock();
    const ids = IDS.slice(0, 500);
    const f = await fakeWith(ids, v.now, 100);
    f.fault("503", { sticky: false, times: 4 });
    const source = createCoinGeckoSource({
      assets: ids,
      currencies: ["usd"],
      plan: "public",
      baseUrl: f.url,
      log: silentLogger,
      maxIdsPerRequest: 200,
      maxUrlLength: 100_000,
      sleep: async () => {},
    });
    const { ticks, skipped } = await source.fetch();
    // The first chunk's four attempts all failed; the second and third answered.
    expect(ticks).toHaveLength(300);
    expect(skipped).toHaveLength(200);
    expect(new Set(skipped.map((s) => s.reason))).toEqual(new Set(["request failed (HTTP 503)"]));
    expect(skipped.map((s) => s.asset)).toEqual(ids.slice(0, 200));
  });

  test("when every chunk fails the fetch throws, as one request did", async () => {
    const v = virtualClock();
    const f = await fakeWith(IDS.slice(0, 10), v.now, 100);
    f.fault("1020", { sticky: true });
    const source = createCoinGeckoSource({
      assets: IDS.slice(0, 10),
      currencies: ["usd"],
      plan: "public",
      baseUrl: f.url,
      log: silentLogger,
      maxIdsPerRequest: 5,
      sleep: async () => {},
    });
    const error = await source.fetch().catch((e) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toContain("error 1020");
    expect(error.retriable).toBe(false);
    // Not retried: a firewall block does not lift within a fetch.
    expect(f.requests).toHaveLength(2);
  });
});
