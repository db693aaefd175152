import { describe, expect, test } from "bun:test";
import { createMemoryCache } from "../lib/adapters/memory/cache.ts";
import { createMemoryHistory } from "../lib/adapters/memory/history.ts";
import { createConsumerMetrics } from "../lib/pipeline/metrics.ts";
import { createStatusApp } from "../lib/status/app.ts";
import { makeTick } from "./support/ticks.ts";

// Seeded, so that a failure names a case that fails again on the next run.
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

const ALPHABET = [..."abcXYZ019 -_.~/\\%?#&=+:;,'\"<>()[]{}|^`!@$*\u0000\t\nüß日本💥\u202e\ufeff"];

const BAD_IDS = [
  "Beldex",
  "USD",
  "..",
  "../..",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e",
  "-beldex",
  ".hidden",
  "_x",
  "a b",
  "a%00b",
  "%00",
  "%",
  "%%",
  "%zz",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "x".repeat(101),
  "💥",
  "ünïcødé",
  "\u202egnp",
  "null",
].filter((value) => !/^[a-z0-9][a-z0-9._-]*$/.test(value) || value.length > 100);

const BAD_NUMBERS = [
  "",
  " ",
  "0",
  "-1",
  "-0",
  "10001",
  "1e3",
  "1e309",
  "99999999999999999999999",
  "1.5",
  "0x10",
  "NaN",
  "Infinity",
  "+5",
  " 5",
  "5 ",
  "five",
  "٥",
  "[]",
];

const BAD_TIMES = [
  "",
  "yesterday",
  "2026-13-45",
  "2026-11-26T25:00:00Z",
  "2026-11-26T18:00:00",
  "2026-11-26 18:00",
  "26/11/2026",
  "0",
  "-1",
  "1e12",
  "99999999999999",
  "1000",
  "2200-01-01",
  "1999-01-01",
  "NaN",
  "Infinity",
  "2026-11-26T18:00:00+99:00",
  "x".repeat(5000),
];

/** A random string that is certainly not an id (it starts with a character ids never start with). */
function junk(rng: ReturnType<typeof random>): string {
  const length = rng.int(40);
  let text = rng.pick(["X", "!", "-", "%", " ", "ü", "."]);
  for (let i = 0; i < length; i++) text += rng.pick(ALPHABET);
  return text;
}

interface Case {
  path: string;
  query: [string, string][];
  method?: string;
}

const enc = encodeURIComponent;

function url({ path, query }: Case): string {
  const search = query.map(([key, value]) => `${enc(key)}=${enc(value)}`).join("&");
  return search ? `${path}?${search}` : path;
}

// One malformed request: the route is picked at random, then one thing in it is broken on purpose.
function malformed(rng: ReturnType<typeof random>): Case {
  const route = rng.pick(["pairs", "latest", "history", "candles"] as const);
  const badAsset = rng.next() < 0.5 ? rng.pick(BAD_IDS) : junk(rng);
  // Raw only when the URL parser keeps it in the segment: "../x" would resolve to another route before the app.
  const raw = /^[^/\\?#]*$/.test(badAsset) && !/^\.+$/.test(badAsset) && rng.next() < 0.3;
  const asset = (bad: boolean) => (bad ? (raw ? badAsset : enc(badAsset)) : "beldex");
  const breakage = rng.int(5);
  switch (route) {
    case "pairs":
      return { path: "/api/pairs", query: [[rng.pick(["currency", "x", "", junk(rng)]), junk(rng)]] };
    case "latest": {
      if (breakage === 0) return { path: `/api/latest/${asset(true)}`, query: [] };
      if (breakage === 1)
        return { path: "/api/latest/beldex", query: [["currency", rng.pick([...BAD_IDS, junk(rng)])]] };
      if (breakage === 2)
        return {
          path: "/api/latest/beldex",
          query: [
            ["currency", "usd"],
            ["currency", "eur"],
          ],
        };
      return { path: `/api/latest/${asset(false)}`, query: [[junk(rng), "1"]] };
    }
    case "history": {
      const query: [string, string][] = [["currency", "usd"]];
      if (breakage === 0) return { path: `/api/history/${asset(true)}`, query };
      if (breakage === 1) query.push(["limit", rng.pick([...BAD_NUMBERS, junk(rng)])]);
      else if (breakage === 2) query.push([rng.pick(["from", "to"]), rng.pick([...BAD_TIMES, junk(rng)])]);
      else if (breakage === 3) query.push(["limit", "5"], ["limit", "6"]);
      else query.push(["from", "2026-11-27"], ["to", "2026-11-26"]);
      return { path: "/api/history/beldex", query };
    }
    case "candles": {
      const query: [string, string][] = [];
      if (breakage === 0) return { path: `/api/candles/${asset(true)}`, query };
      if (breakage === 1) query.push(["interval", rng.pick(["1m", "5M", "", "1w", "hour", junk(rng)])]);
      else if (breakage === 2) query.push([rng.pick(["from", "to"]), rng.pick([...BAD_TIMES, junk(rng)])]);
      else if (breakage === 3) query.push(["interval", "5m"], ["from", "2009-01-02"]);
      else query.push(["currency", rng.pick(BAD_IDS)], ["interval", "1h"]);
      return { path: "/api/candles/beldex", query };
    }
  }
}

async function setup() {
  const cache = createMemoryCache();
  const history = createMemoryHistory();
  const ticks = Array.from({ length: 10 }, (_, minute) => makeTick({}, minute));
  await cache.putIfNewer(ticks);
  await history.upsert(ticks);
  return createStatusApp({
    cache,
    history,
    health: () => ({ metrics: createConsumerMetrics(), lag: null, startedAt: 0 }),
    fetchIntervalMs: 60_000,
    now: () => Date.UTC(2026, 10, 26, 18, 30),
  });
}

async function expectClientError(app: Awaited<ReturnType<typeof setup>>, target: string, method = "GET") {
  const res = await app.request(target, { method });
  const text = await res.text();
  const context = `${method} ${target} -> ${res.status} ${text.slice(0, 200)}`;
  expect(res.status >= 400 && res.status < 500, context).toBe(true);
  expect(res.headers.get("content-type"), context).toStartWith("application/json");
  const body = JSON.parse(text);
  expect(typeof body.error, context).toBe("string");
  // Never a stack trace or an internal path.
  expect(text, context).not.toMatch(/\bat .+:\d+:\d+|\/work\/|node_modules/);
}

describe("malformed API requests", () => {
  test("1000 random malformed requests all get a 4xx JSON error, never a 5xx", async () => {
    const app = await setup();
    const rng = random(20261126);
    for (let i = 0; i < 1000; i++) await expectClientError(app, url(malformed(rng)));
  });

  test("every bad value of every parameter of every route gets a 4xx JSON error", async () => {
    const app = await setup();
    for (const id of BAD_IDS) {
      for (const path of ["latest", "history", "candles"])
        await expectClientError(app, `/api/${path}/${enc(id)}`);
      await expectClientError(app, `/api/latest/beldex?currency=${enc(id)}`);
      await expectClientError(app, `/api/history/beldex?currency=${enc(id)}`);
      await expectClientError(app, `/api/candles/beldex?currency=${enc(id)}`);
    }
    for (const limit of BAD_NUMBERS) await expectClientError(app, `/api/history/beldex?limit=${enc(limit)}`);
    for (const time of BAD_TIMES)
      for (const key of ["from", "to"]) {
        await expectClientError(app, `/api/history/beldex?${key}=${enc(time)}`);
        await expectClientError(app, `/api/candles/beldex?${key}=${enc(time)}`);
      }
  });

  test("raw (unencoded) junk in paths and queries is still a 4xx JSON error", async () => {
    const app = await setup();
    for (const raw of ["%", "%%", "%zz", "%E0%A4%A", "..;/", "a%2Fb", "%c0%ae%c0%ae", "a\\b", "%ff"]) {
      await expectClientError(app, `/api/latest/${raw}`);
      await expectClientError(app, `/api/history/beldex?from=${raw}`);
      await expectClientError(app, `/api/candles/beldex?interval=${raw}`);
      await expectClientError(app, `/api/history/beldex?${raw}=1`);
    }
  });

  test("missing segments, unknown routes and other methods are JSON 404s", async () => {
    const app = await setup();
    for (const path of [
      "/api/latest/",
      "/api/history",
      "/api/candles/beldex/usd",
      "/api/../etc/passwd",
      "/api/x",
    ])
      await expectClientError(app, path);
    for (const method of ["POST", "PUT", "DELETE", "PATCH"])
      await expectClientError(app, "/api/pairs", method);
  });
});
