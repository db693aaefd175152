import { z } from "zod";
import { excerpt, InvalidTickError } from "./errors.ts";

/** Version of the message format this code writes. */
export const TICK_VERSION = 1;
/** Value of the `schema` header on every tick message. */
export const TICK_SCHEMA = `belly.tick.v${TICK_VERSION}`;
/** Headers set on every tick message. */
export const TICK_HEADERS = { "content-type": "application/json", schema: TICK_SCHEMA } as const;

const id = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "lower-case id");
const metric = z.number().finite().nullable();

/**
 * Message v1: one price of one asset in one currency, as CoinGecko reported it.
 * Optional metrics are null when the source did not report them; the price never is.
 */
export const tickSchema = z.object({
  v: z.literal(TICK_VERSION),
  asset: id,
  currency: id,
  price: z.number().finite().positive(),
  marketCap: metric,
  volume24h: metric,
  change24hPct: metric,
  sourceUpdatedAt: z.iso.datetime({ offset: true }),
  fetchedAt: z.iso.datetime({ offset: true }),
  source: z.string().min(1).max(50),
});

/** A validated price tick (message v1). */
export type Tick = z.infer<typeof tickSchema>;

/**
 * Message key: ticks of one pair share a partition, so they stay in order.
 * @example tickKey({ asset: "beldex", currency: "usd" }) // "beldex:usd"
 */
export function tickKey(pair: { asset: string; currency: string }): string {
  return `${pair.asset}:${pair.currency}`;
}

/**
 * A tick's identity: the same CoinGecko value polled twice has the same identity and is stored once.
 * @example tickIdentity(tick) // "beldex:usd@2026-11-26T18:00:00.000Z"
 */
export function tickIdentity(tick: Tick): string {
  return `${tickKey(tick)}@${new Date(tick.sourceUpdatedAt).toISOString()}`;
}

/** Epoch milliseconds of the tick's source time, the order used by the latest cache. */
export function tickTime(tick: Tick): number {
  return Date.parse(tick.sourceUpdatedAt);
}

/** Validates a value as a tick, throwing {@link InvalidTickError} with a short reason. */
export function parseTick(value: unknown): Tick {
  const result = tickSchema.safeParse(value);
  if (result.success) return result.data;
  const reason = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`)
    .join("; ");
  throw new InvalidTickError(excerpt(reason));
}

/** Validates a value as a tick, or returns the short reason it is not one (a source skips such a pair). */
export function tickOrReason(value: unknown): Tick | string {
  try {
    return parseTick(value);
  } catch (error) {
    if (error instanceof InvalidTickError) return error.reason;
    throw error;
  }
}

/** Encodes a tick as the JSON message value. */
export function encodeTick(tick: Tick): string {
  return JSON.stringify(tick);
}

/** Decodes and validates a message value; throws {@link InvalidTickError} for bad JSON or a bad tick. */
export function decodeTick(value: Buffer | string | null | undefined): Tick {
  if (value === null || value === undefined || value.length === 0)
    throw new InvalidTickError("empty message");
  const text = typeof value === "string" ? value : value.toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidTickError(`not JSON: ${excerpt(text, 80)}`, { cause });
  }
  return parseTick(json);
}
