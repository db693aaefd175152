// The Supabase history adapter, through unmodified supabase-js, against a PostgREST bridge over real Postgres:
// the migration's own grants and RLS policies decide what each key may do.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@supabase/supabase-js";
import { SQL } from "bun";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { SUPABASE_HINTS } from "../lib/adapters/supabase/failures.ts";
import { createSupabaseHistory } from "../lib/adapters/supabase/history.ts";
import { ANON_WRITE_REFUSAL, assertWriteKey } from "../lib/adapters/supabase/keys.ts";
import { candlesOf } from "../lib/candles.ts";
import { ConfigError, describeError, SinkError } from "../lib/errors.ts";
import type { HistoryStore } from "../lib/ports.ts";
import { historyContract } from "./contracts/history-contract.ts";
import { type PostgrestBridge, startPostgrestBridge } from "./support/postgrest-bridge.ts";
import { createTestDatabase, type TestDatabase } from "./support/stack.ts";
import { makeTick } from "./support/ticks.ts";

const ANON_KEY = `anon-${crypto.randomUUID()}`;
const SERVICE_KEY = `service-${crypto.randomUUID()}`;

/** A fresh database (migrated unless told otherwise) with a bridge in front of it. */
async function bridgedDatabase(prefix: string, migrate = true) {
  const database = await createTestDatabase(prefix);
  if (migrate) await migratePostgres(database.url);
  const bridge = await startPostgrestBridge({
    databaseUrl: database.url,
    anonKey: ANON_KEY,
    serviceRoleKey: SERVICE_KEY,
  });
  return {
    database,
    bridge,
    async dispose() {
      await bridge.stop();
      await database.drop();
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<SinkError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SinkError);
  return error as SinkError;
}

historyContract("Supabase (supabase-js over the PostgREST bridge)", async () => {
  const { bridge, dispose } = await bridgedDatabase("supabase_contract");
  return { store: createSupabaseHistory({ url: bridge.url, key: SERVICE_KEY }), dispose };
});

describe("Supabase history with the migration's grants and row-level security", () => {
  let setup: Awaited<ReturnType<typeof bridgedDatabase>>;
  let bridge: PostgrestBridge;
  let database: TestDatabase;
  let service: HistoryStore;
  let anon: HistoryStore;
  const asset = `s${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    setup = await bridgedDatabase("supabase_rls");
    ({ bridge, database } = setup);
    service = createSupabaseHistory({ url: bridge.url, key: SERVICE_KEY });
    anon = createSupabaseHistory({ url: bridge.url, key: ANON_KEY });
  });
  afterAll(async () => {
    await setup?.dispose();
  });

  test("refuses inserts with the anon key, and the hint asks for the service role key", async () => {
    const error = await rejection(anon.upsert([makeTick({ asset })]));
    expect(error.hint).toBe(SUPABASE_HINTS.serviceRole);
    expect(error.message).toContain("HTTP 401 42501");
    expect(error.message).toContain("permission denied for table price_history");
    const sql = new SQL(database.url, { max: 1 });
    try {
      expect(await sql`select count(*)::int as n from price_history where asset = ${asset}`).toEqual([
        { n: 0 },
      ]);
    } finally {
      await sql.close();
    }
  });

  test("stores with the service role key, and the anon key reads what it stored", async () => {
    const ticks = [makeTick({ asset }, 0), makeTick({ asset }, 1)];
    expect(await service.upsert(ticks)).toEqual({ inserted: 2 });
    expect(await anon.recent(asset, "usd")).toEqual([ticks[1], ticks[0]] as typeof ticks);
    await anon.ping();
  });

  test("stores numerics sent as JSON numbers with every digit of the double (String(number))", async () => {
    const digits = `d${crypto.randomUUID().slice(0, 8)}`;
    const precise = makeTick({ asset: digits, price: 0.1 + 0.2, marketCap: 1.8200000000000002e12 });
    expect(await service.upsert([precise])).toEqual({ inserted: 1 });
    const sql = new SQL(database.url, { max: 1 });
    try {
      const [row] = await sql`select price::text as price, market_cap::text as cap from price_history
        where asset = ${digits}`;
      expect(row).toEqual({ price: String(precise.price), cap: String(precise.marketCap) });
    } finally {
      await sql.close();
    }
  });

  test("reads with readKey and writes with key when both are given", async () => {
    const store = createSupabaseHistory({ url: bridge.url, key: SERVICE_KEY, readKey: ANON_KEY });
    const seen = bridge.requests.length;
    await store.upsert([makeTick({ asset }, 2)]);
    expect((await store.range({ asset, currency: "usd" })).length).toBe(3);
    const roles = bridge.requests.slice(seen).map((r) => `${r.method} ${r.role}`);
    expect(roles).toEqual(["POST service_role", "GET anon"]);
  });

  test("sends upserts as PostgREST expects: on_conflict, ignore-duplicates and representation", async () => {
    const seen = bridge.requests.length;
    expect(await service.upsert([makeTick({ asset }, 2), makeTick({ asset }, 3)])).toEqual({ inserted: 1 });
    const [post] = bridge.requests.slice(seen);
    expect(post?.prefer).toContain("resolution=ignore-duplicates");
    expect(post?.prefer).toContain("return=representation");
    expect(new URLSearchParams(post?.search).get("on_conflict")).toBe("asset,currency,source_updated_at");
  });

  test("a wrong key is refused with a hint naming SUPABASE_SERVICE_ROLE_KEY, never the key itself", async () => {
    const wrongKey = `wrong-${crypto.randomUUID()}`;
    const store = createSupabaseHistory({ url: bridge.url, key: wrongKey });
    const attempts = [
      () => store.upsert([makeTick({ asset })]),
      () => store.recent(asset, "usd"),
      store.ping,
    ];
    for (const attempt of attempts) {
      const error = await rejection(attempt());
      expect(error.hint).toBe("check SUPABASE_SERVICE_ROLE_KEY");
      expect(error.message).toContain("HTTP 401");
      for (const shown of [describeError(error), Bun.inspect(error), JSON.stringify(error.cause)])
        expect(shown).not.toContain(wrongKey);
    }
  });

  test("a wrong read key is refused with a hint naming SUPABASE_ANON_KEY", async () => {
    const store = createSupabaseHistory({ url: bridge.url, key: SERVICE_KEY, readKey: "wrong-read-key" });
    expect((await rejection(store.recent(asset, "usd"))).hint).toBe("check SUPABASE_ANON_KEY");
  });

  test("sends every request through the given fetch", async () => {
    let calls = 0;
    const store = createSupabaseHistory({
      url: bridge.url,
      key: SERVICE_KEY,
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    await store.ping();
    await store.recent(asset, "usd");
    expect(calls).toBe(2);
  });

  test("reports an unreachable project with a hint about SUPABASE_URL, and ping does not retry", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `http://127.0.0.1:${closed.port}`;
    await closed.stop(true);
    const started = performance.now();
    const error = await rejection(createSupabaseHistory({ url, key: SERVICE_KEY }).ping());
    expect(performance.now() - started).toBeLessThan(900); // supabase-js' first retry waits 1 s
    expect(error.message).toContain("HTTP 0");
    expect(error.hint).toBe(SUPABASE_HINTS.url);
  });

  test("pages past the 1000-row response cap for long windows and candles", async () => {
    const many = `p${crypto.randomUUID().slice(0, 8)}`;
    const ticks = Array.from({ length: 2500 }, (_, minute) =>
      makeTick({ asset: many, price: 1 + minute }, minute),
    );
    expect(await service.upsert(ticks)).toEqual({ inserted: 2500 });
    const seen = bridge.requests.length;
    const range = await service.range({ asset: many, currency: "usd", limit: 2500 });
    expect(range).toEqual(ticks);
    expect(bridge.requests.slice(seen).filter((r) => r.method === "GET")).toHaveLength(3);
    expect(await service.candles({ asset: many, currency: "usd", interval: "1h" })).toEqual(
      candlesOf(ticks, "1h"),
    );
    expect((await service.range({ asset: many, currency: "usd" })).map((t) => t.price)).toEqual(
      ticks.slice(-1000).map((t) => t.price),
    );
  });

  test("leaves out the oldest, possibly partial, candle when 10,000 ticks cut the window", async () => {
    const many = `c${crypto.randomUUID().slice(0, 8)}`;
    const ticks = Array.from({ length: 10_001 }, (_, minute) =>
      makeTick({ asset: many, price: 1 + minute }, minute),
    );
    expect(await service.upsert(ticks)).toEqual({ inserted: 10_001 });
    const candles = await service.candles({ asset: many, currency: "usd", interval: "1h" });
    expect(candles).toEqual(candlesOf(ticks, "1h").slice(1));
  });

  test("answers PostgREST's statuses and error bodies to raw requests", async () => {
    const headers = (key: string) => ({ apikey: key, Authorization: `Bearer ${key}` });
    const post = (key: string, prefer?: string) =>
      fetch(`${bridge.url}/rest/v1/price_history`, {
        method: "POST",
        headers: {
          ...headers(key),
          "Content-Type": "application/json",
          ...(prefer ? { Prefer: prefer } : {}),
        },
        body: JSON.stringify({
          asset,
          currency: "usd",
          price: "1",
          source_updated_at: "2026-11-26T18:00:00Z",
          fetched_at: "2026-11-26T18:00:00Z",
        }),
      });
    const anonInsert = await post(ANON_KEY);
    expect(anonInsert.status).toBe(401);
    expect(await anonInsert.json()).toMatchObject({ code: "42501", hint: null, details: null });
    const duplicate = await post(SERVICE_KEY);
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toMatchObject({ code: "23505" });
    expect((await post(SERVICE_KEY, "resolution=ignore-duplicates")).status).toBe(201);
    const missing = await fetch(`${bridge.url}/rest/v1/nope?select=*`, { headers: headers(ANON_KEY) });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      code: "PGRST205",
      details: null,
      hint: null,
      message: "Could not find the table 'public.nope' in the schema cache",
    });
    const injection = await fetch(`${bridge.url}/rest/v1/price_history?order=asset;drop%20table%20x`, {
      headers: headers(SERVICE_KEY),
    });
    expect(injection.status).toBe(400);
    expect(await injection.json()).toMatchObject({ code: "PGRST100" });
    const counted = await fetch(`${bridge.url}/rest/v1/price_history?asset=eq.${asset}&limit=1`, {
      method: "HEAD",
      headers: { ...headers(ANON_KEY), Prefer: "count=exact" },
    });
    expect(counted.headers.get("content-range")).toBe("0-0/4");
    const unknown = await fetch(`${bridge.url}/rest/v1/price_history`, { headers: headers("nobody") });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toMatchObject({ message: "Invalid API key" });
  });
});

describe("Supabase history on a database without the migration", () => {
  let setup: Awaited<ReturnType<typeof bridgedDatabase>>;
  let store: HistoryStore;
  beforeAll(async () => {
    setup = await bridgedDatabase("supabase_unmigrated", false);
    store = createSupabaseHistory({ url: setup.bridge.url, key: SERVICE_KEY });
  });
  afterAll(async () => {
    await setup?.dispose();
  });

  test("every operation fails with a hint to run the migration", async () => {
    for (const attempt of [
      () => store.upsert([makeTick()]),
      () => store.recent("beldex", "usd"),
      () => store.candles({ asset: "beldex", currency: "usd", interval: "5m" }),
      store.ping,
    ]) {
      const error = await rejection(attempt());
      expect(error.hint).toBe(SUPABASE_HINTS.migration);
      expect(error.message).toContain("PGRST205");
    }
  });

  test("supabase-js reads a HEAD's body-less 404 as success, which is why ping uses a GET", async () => {
    const client = createClient(setup.bridge.url, SERVICE_KEY, {
      auth: { persistSession: false, autoRefreshToken: false },
    });
    const head = await client.from("price_history").select("*", { head: true, count: "exact" });
    expect(head.error).toBeNull();
    expect(head.status).toBe(204);
  });
});

describe("Supabase history on a price_history that lacks a column", () => {
  let setup: Awaited<ReturnType<typeof bridgedDatabase>>;
  let store: HistoryStore;
  beforeAll(async () => {
    setup = await bridgedDatabase("supabase_column");
    const sql = new SQL(setup.database.url, { max: 1 });
    try {
      await sql`alter table price_history drop column change_24h_pct`;
    } finally {
      await sql.close();
    }
    store = createSupabaseHistory({ url: setup.bridge.url, key: SERVICE_KEY });
  });
  afterAll(async () => {
    await setup?.dispose();
  });

  test("writes fail with PGRST204 and a hint to re-run the migration", async () => {
    const error = await rejection(store.upsert([makeTick()]));
    expect(error.message).toContain("HTTP 400 PGRST204");
    expect(error.message).toContain("Could not find the 'change_24h_pct' column of 'price_history'");
    expect(error.hint).toBe(SUPABASE_HINTS.column);
  });

  test("reads fail with the column error and the same hint", async () => {
    const error = await rejection(store.recent("beldex", "usd"));
    expect(error.message).toContain("42703");
    expect(error.hint).toBe(SUPABASE_HINTS.column);
  });
});

describe("assertWriteKey", () => {
  const jwt = (claims: object) =>
    ["e30", Buffer.from(JSON.stringify(claims)).toString("base64url"), "signature"].join(".");
  const refused = (supabase: { anonKey: string | null; serviceRoleKey: string | null }) => {
    try {
      assertWriteKey(supabase);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error("assertWriteKey accepted the key");
  };

  test("refuses to write with only the anon key", () => {
    expect(refused({ anonKey: "anon", serviceRoleKey: null })).toEqual([ANON_WRITE_REFUSAL]);
    expect(ANON_WRITE_REFUSAL).toBe(
      "SUPABASE_SERVICE_ROLE_KEY: expected the service role key; the public anon key must never write prices",
    );
  });

  test("refuses the anon key placed in SUPABASE_SERVICE_ROLE_KEY", () => {
    expect(refused({ anonKey: "same-key", serviceRoleKey: "same-key" })).toEqual([ANON_WRITE_REFUSAL]);
    expect(refused({ anonKey: null, serviceRoleKey: jwt({ role: "anon" }) })).toEqual([ANON_WRITE_REFUSAL]);
    expect(refused({ anonKey: null, serviceRoleKey: "sb_publishable_abc123" })).toEqual([ANON_WRITE_REFUSAL]);
  });

  test("returns a service role key, legacy JWT or opaque", () => {
    const legacy = jwt({ role: "service_role", iss: "supabase" });
    expect(assertWriteKey({ anonKey: jwt({ role: "anon" }), serviceRoleKey: legacy })).toBe(legacy);
    expect(assertWriteKey({ anonKey: null, serviceRoleKey: "sb_secret_abc123" })).toBe("sb_secret_abc123");
  });
});
