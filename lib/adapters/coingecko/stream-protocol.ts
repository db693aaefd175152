/**
 * CoinGecko's CGSimplePrice WebSocket exchange as documented (docs.coingecko.com, websocket/cgsimpleprice): the
 * commands we send, and what each message we receive means. Nothing here touches a socket.
 */
import { TICK_VERSION, type Tick, tickOrReason } from "../../tick.ts";

/** Value of `source` on every tick read from the stream. */
export const STREAM_SOURCE = "coingecko-stream";

/** The channel's identifier: a JSON string inside the JSON command, as CoinGecko's examples write it. */
export const CG_SIMPLE_PRICE_IDENTIFIER = JSON.stringify({ channel: "CGSimplePrice" });

/** Header and query parameter that carry a paid key, per CoinGecko's docs. */
export const STREAM_KEY_HEADER = "x-cg-pro-api-key";
/** See {@link STREAM_KEY_HEADER}. */
export const STREAM_KEY_PARAM = "x_cg_pro_api_key";

/** Code of the first message on a new connection ("Connection established"). */
export const CODE_CONNECTED = 3000;
/** Code of the answer to set_tokens ("Subscribed to bitcoin in usd"). */
export const CODE_SUBSCRIBED = 2000;

/**
 * The command subscribing to the CGSimplePrice channel.
 * @example subscribeCommand() // {"command":"subscribe","identifier":"{\"channel\":\"CGSimplePrice\"}"}
 */
export function subscribeCommand(): string {
  return JSON.stringify({ command: "subscribe", identifier: CG_SIMPLE_PRICE_IDENTIFIER });
}

/**
 * The command leaving the channel, sent on a clean stop. CoinGecko documents unsubscribe as a command of the
 * channel without showing it in full; this is the subscribe command's shape with command "unsubscribe".
 */
export function unsubscribeCommand(): string {
  return JSON.stringify({ command: "unsubscribe", identifier: CG_SIMPLE_PRICE_IDENTIFIER });
}

/**
 * The `message` command choosing the coins and currencies to stream (action set_tokens).
 * @example setTokensCommand(["bitcoin"], ["usd"])
 * // {"command":"message","identifier":"{\"channel\":\"CGSimplePrice\"}","data":"{\"coin_id\":[\"bitcoin\"],\"vs_currencies\":[\"usd\"],\"action\":\"set_tokens\"}"}
 */
export function setTokensCommand(assets: readonly string[], currencies: readonly string[]): string {
  const data = JSON.stringify({ coin_id: assets, vs_currencies: currencies, action: "set_tokens" });
  return JSON.stringify({ command: "message", identifier: CG_SIMPLE_PRICE_IDENTIFIER, data });
}

/** One message from the stream, by what it means to the client. */
export type StreamMessage =
  /** Code 3000, or the welcome: the connection is up; subscribe now. */
  | { kind: "connected" }
  /** confirm_subscription of CGSimplePrice: choose the tokens now. */
  | { kind: "confirmed" }
  /** A coded answer other than 3000 (2000 after set_tokens; anything else is worth a log line). */
  | { kind: "answer"; code: number; message: string }
  /** A price update (`c`, `i`, `vs`, `p`, `pp`, `m`, `v`, `t`, in any order). */
  | { kind: "update"; update: Record<string, unknown> }
  /** Anything else (not JSON, a ping, another channel): ignored. */
  | { kind: "other" };

/**
 * What one text frame from the stream means.
 * @example parseStreamMessage('{"code":3000,"message":"Connection established"}') // { kind: "connected" }
 */
export function parseStreamMessage(text: string): StreamMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "other" };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return { kind: "other" };
  const record = json as Record<string, unknown>;
  if (record.type === "welcome") return { kind: "connected" };
  if (record.type === "confirm_subscription")
    return sameChannel(record.identifier) ? { kind: "confirmed" } : { kind: "other" };
  if (typeof record.code === "number") {
    if (record.code === CODE_CONNECTED) return { kind: "connected" };
    return { kind: "answer", code: record.code, message: String(record.message ?? "") };
  }
  if (typeof record.i === "string" && ("p" in record || "t" in record))
    return { kind: "update", update: record };
  return { kind: "other" };
}

function sameChannel(identifier: unknown): boolean {
  if (typeof identifier !== "string") return false;
  try {
    return (JSON.parse(identifier) as { channel?: unknown }).channel === "CGSimplePrice";
  } catch {
    return false;
  }
}

/** One update read as a tick of a configured pair, or the reason it is skipped; null for a pair not configured. */
export type UpdateReading = { asset: string; currency: string; outcome: Tick | string } | null;

/**
 * An update as a v1 tick with `source: "coingecko-stream"`: `t` (seconds, possibly fractional) becomes
 * sourceUpdatedAt to the millisecond; null metrics stay null; a null or missing price or time skips the pair
 * with a reason, as the REST source does. `vs` missing means usd (the channel's default currency, and the
 * payload of its first documented version, which had no `vs`). `p` may come as a numeric string (that first
 * version typed it so).
 * @example updateToTick({ c: "C1", i: "bitcoin", vs: "usd", p: 91000.5, t: 1764180000.25 },
 *   { assets: ["bitcoin"], currencies: ["usd"], fetchedAt })
 */
export function updateToTick(
  update: Record<string, unknown>,
  context: { assets: readonly string[]; currencies: readonly string[]; fetchedAt: string },
): UpdateReading {
  const asset = String(update.i).toLowerCase();
  const currency = typeof update.vs === "string" ? update.vs.toLowerCase() : "usd";
  if (!context.assets.includes(asset) || !context.currencies.includes(currency)) return null;
  const price = numberOf(update.p);
  const updated = numberOf(update.t);
  let outcome: Tick | string;
  if (price === null)
    outcome = update.p === null || update.p === undefined ? "price missing" : "price not a number";
  else if (price <= 0) outcome = "price not positive";
  else if (updated === null)
    outcome =
      update.t === null || update.t === undefined ? "last_updated_at missing" : "last_updated_at invalid";
  else if (updated <= 0 || Number.isNaN(new Date(Math.round(updated * 1000)).getTime()))
    outcome = "last_updated_at invalid";
  else
    outcome = tickOrReason({
      v: TICK_VERSION,
      asset,
      currency,
      price,
      marketCap: numberOf(update.m),
      volume24h: numberOf(update.v),
      change24hPct: numberOf(update.pp),
      // Rounded to the millisecond: 1747808150.269067 s is 1747808150269 ms, not a float ms.
      sourceUpdatedAt: new Date(Math.round(updated * 1000)).toISOString(),
      fetchedAt: context.fetchedAt,
      source: STREAM_SOURCE,
    });
  return { asset, currency, outcome };
}

/** A finite number, from a number or a numeric string; null for anything else. */
function numberOf(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}
