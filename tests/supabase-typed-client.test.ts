// The typed client: supabase-js with the generated Database type. Most of what this file checks is checked by
// `tsc --noEmit` (each @ts-expect-error must meet an error, or the type check fails); the runtime part shows
// the typed rows are what the Data API sends.
import { expect, test } from "bun:test";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { Database, Tables, TablesInsert } from "../lib/adapters/supabase/database.types.ts";

const ROW: Tables<"price_history"> = {
  asset: "beldex",
  currency: "usd",
  price: 0.0712,
  market_cap: null,
  volume_24h: 2.1e6,
  change_24h_pct: -1.5,
  source: "coingecko",
  source_updated_at: "2026-11-26T18:00:00+00:00",
  fetched_at: "2026-11-26T18:00:05+00:00",
  inserted_at: "2026-11-26T18:00:06+00:00",
};

/** A client whose requests are answered with `rows` and recorded, without a network. */
function fakeClient(rows: unknown[]) {
  const requests: string[] = [];
  const client = createClient<Database>("http://127.0.0.1:1", "anon-key", {
    auth: { persistSession: false, autoRefreshToken: false },
    global: {
      fetch: (async (input: RequestInfo | URL) => {
        requests.push(String(input));
        return Response.json(rows);
      }) as typeof fetch,
    },
  });
  return { client, requests };
}

test("selects are typed by the columns named, and read what the API sends", async () => {
  const { client, requests } = fakeClient([{ asset: "beldex", price: 0.0712, market_cap: null }]);
  const { data, error } = await client.from("price_history").select("asset,price,market_cap").limit(1);
  expect(error).toBeNull();
  const first = data?.[0];
  const price: number | undefined = first?.price;
  const cap: number | null | undefined = first?.market_cap;
  // @ts-expect-error numeric columns are numbers, never strings
  const asText: string | undefined = first?.price;
  // @ts-expect-error a column not selected is not in the row
  void first?.source;
  expect([price, cap, asText]).toEqual([0.0712, null, 0.0712]);
  expect(requests).toEqual([
    "http://127.0.0.1:1/rest/v1/price_history?select=asset%2Cprice%2Cmarket_cap&limit=1",
  ]);
});

test("inserts must carry the required columns with their types; defaults and nullable columns may be left out", () => {
  const { client } = fakeClient([]);
  const minimal: TablesInsert<"price_history"> = {
    asset: "beldex",
    currency: "usd",
    price: 0.07,
    source_updated_at: ROW.source_updated_at,
    fetched_at: ROW.fetched_at,
  };
  // Built, not sent: the point is the type check of each call.
  client.from("price_history").upsert([minimal, ROW], { onConflict: "asset,currency,source_updated_at" });
  const { price: _, ...noPrice } = minimal;
  // @ts-expect-error price is required
  client.from("price_history").insert(noPrice);
  // @ts-expect-error price is numeric
  client.from("price_history").insert({ ...minimal, price: "0.07" });
  // @ts-expect-error no such table
  client.from("prices").select("*");
  expect(Object.keys(minimal)).toHaveLength(5);
});

/**
 * README's browser example, type-checked here (never run: it would open a socket): a subscription to the
 * inserts into price_history with the anon key, its rows typed by the generated Row.
 */
export function subscribeToPrices(
  supabase: SupabaseClient<Database>,
  show: (row: Tables<"price_history">) => void,
) {
  return supabase
    .channel("price_history")
    .on<Tables<"price_history">>(
      "postgres_changes",
      { event: "INSERT", schema: "public", table: "price_history", filter: "asset=eq.beldex" },
      (payload) => show(payload.new),
    )
    .subscribe();
}

test("README's subscription compiles against the generated Row", () => {
  expect(subscribeToPrices).toBeFunction();
});
