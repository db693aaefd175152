import { z } from "zod";
import { excerpt, InvalidTickError } from "./errors.ts";

/** Version of the message format this code writes. */
export const TICK_VERSION = 1;
/** Value of the `schema` header on every tick message. */
export const TICK_SCHEMA = `belly.tick.v${TICK_VERSION}`;
/** Headers set on every tick message. */
export const TICK_HEADERS = { "content-type": "application/json", schema: TICK_SCHEMA } as const;
/** `schema` header values this consumer reads; a message naming another schema is dead-lettered. */
export const KNOWN_TICK_SCHEMAS: readonly string[] = [TICK_SCHEMA];

/**
 * How far a tick's sourceUpdatedAt may lie ahead of the clock that checks it: 120 s. CoinGecko's
 * last_updated_at trails real time by its cache interval (up to a minute), so a genuine tick is never in the
 * future; what can put it ahead is clock error between CoinGecko's servers, the producer's host and the
 * consumer's host (NTP keeps them within a second; a VM resumed from suspend or a host without NTP drifts
 * tens of seconds). Two minutes absorbs that and still rejects the ticks minutes or hours ahead that would
 * otherwise stay the latest price until real time caught up with them.
 */
export const MAX_CLOCK_SKEW_MS = 120_000;
/** Earliest plausible sourceUpdatedAt: 2009-01-03, the day of Bitcoin's genesis block; CoinGecko has nothing earlier. */
export const EARLIEST_SOURCE_TIME = "2009-01-03T00:00:00.000Z";
const EARLIEST_SOURCE_MS = Date.parse(EARLIEST_SOURCE_TIME);

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
  source: z
    .string()
    .min(1)
    .max(50)
    .describe(
      'Where the tick came from: "coingecko" (polled), "coingecko-chart" (backfilled from the price history), "demo"',
    ),
});

/**
 * `source` of the ticks read from CoinGecko's price history (backfill and gap healing) rather than polled, so
 * that the page and the API can tell them apart.
 */
export const BACKFILL_SOURCE = "coingecko-chart";

/** A validated price tick (message v1). */
export type Tick = z.infer<typeof tickSchema>;

/**
 * {@link tickSchema} compiled ahead of time by zod: a generated check of a valid tick (about 0.1 µs against
 * 0.4 to 0.8 µs for the runtime parser, measured over 200,000 ticks), falling back to the runtime parser, and so
 * to its exact issues, for anything it refuses. Same output, same errors; the consumer checks every message.
 */
const compiledTickSchema = z.compile(tickSchema);

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
  const result = compiledTickSchema.safeParse(value);
  if (result.success) return result.data;
  const reason = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join(".") || "value"}: ${issue.message}`)
    .join("; ");
  throw new InvalidTickError(excerpt(reason));
}

/**
 * Why a tick's sourceUpdatedAt is implausible, or undefined when it lies between {@link EARLIEST_SOURCE_TIME}
 * and `nowMs` plus {@link MAX_CLOCK_SKEW_MS}; `clock` names the clock `nowMs` comes from, for the reason. `at`
 * is the time already parsed by a caller that has it (default: parsed here).
 * @example sourceTimeProblem({ sourceUpdatedAt: "9999-01-01T00:00:00Z" }, Date.now(), "the consumer's clock")
 * // "sourceUpdatedAt 9999-01-01T00:00:00Z is in the future (more than 120 s ahead of the consumer's clock)"
 */
export function sourceTimeProblem(
  tick: Pick<Tick, "sourceUpdatedAt">,
  nowMs: number,
  clock: string,
  at = Date.parse(tick.sourceUpdatedAt),
): string | undefined {
  if (at > nowMs + MAX_CLOCK_SKEW_MS)
    return `sourceUpdatedAt ${tick.sourceUpdatedAt} is in the future (more than ${MAX_CLOCK_SKEW_MS / 1000} s ahead of ${clock})`;
  if (at < EARLIEST_SOURCE_MS)
    return `sourceUpdatedAt ${tick.sourceUpdatedAt} is before ${EARLIEST_SOURCE_TIME.slice(0, 10)}, earlier than any price`;
  return undefined;
}

/**
 * Validates a value as a tick, or returns the short reason it is not one (a source skips such a pair). Its
 * sourceUpdatedAt must also be plausible against the tick's own fetchedAt, which a source sets from its clock
 * at the fetch, so the producer never publishes a tick the consumer would dead-letter for its time.
 */
export function tickOrReason(value: unknown): Tick | string {
  let tick: Tick;
  try {
    tick = parseTick(value);
  } catch (error) {
    if (error instanceof InvalidTickError) return error.reason;
    throw error;
  }
  return sourceTimeProblem(tick, Date.parse(tick.fetchedAt), `fetchedAt ${tick.fetchedAt}`) ?? tick;
}

/** Encodes a tick as the JSON message value. */
export function encodeTick(tick: Tick): string {
  return JSON.stringify(tick);
}

/** Decodes and validates a message value; throws {@link InvalidTickError} for bad JSON or a bad tick. */
export function decodeTick(value: Buffer | string | null | undefined): Tick {
  if (value === null || value === undefined || value.length === 0)
    throw new InvalidTickError("empty message", { kind: "empty" });
  const text = typeof value === "string" ? value : value.toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidTickError(`not JSON: ${excerpt(text, 80)}`, { cause, kind: "not-json" });
  }
  return parseTick(json);
}

/** The parts of a bus message {@link decodeTickMessage} reads (a BusMessage fits). */
export interface TickMessage {
  key: string | null;
  value: Buffer | string | null | undefined;
  headers: Record<string, string>;
}

/**
 * Decodes a message read from the bus and checks what the value alone cannot say, throwing
 * {@link InvalidTickError} with the reason: a `schema` header, when present, must be one of
 * {@link KNOWN_TICK_SCHEMAS}; the value must be a valid tick; its sourceUpdatedAt must be plausible against
 * `nowMs`, the consumer's clock (see {@link sourceTimeProblem}); and the key must be the tick's pair.
 * A null key is accepted: our producer always keys by pair, and a tick from a producer that sets no key is
 * still a correct price (the cache orders by source time, not by partition), so only a key naming another
 * pair, which files the tick in the wrong partition and says its producer is broken, is refused.
 * @example decodeTickMessage(message, Date.now())
 */
export function decodeTickMessage(message: TickMessage, nowMs: number): Tick {
  return decodeTimedTickMessage(message, nowMs).tick;
}

/** A decoded tick with its sourceUpdatedAt in epoch ms, parsed once for every later comparison. */
export interface TimedTick {
  tick: Tick;
  at: number;
}

/**
 * {@link decodeTickMessage}, also giving the tick's source time in epoch ms ({@link tickTime}), so that the
 * consumer orders and compares ticks without parsing the date again.
 * @example const { tick, at } = decodeTimedTickMessage(message, Date.now());
 */
export function decodeTimedTickMessage(message: TickMessage, nowMs: number): TimedTick {
  const schema = message.headers.schema;
  // Checked first: a message of another schema fails v1 validation too, with a reason that hides why.
  if (schema !== undefined && !KNOWN_TICK_SCHEMAS.includes(schema))
    throw new InvalidTickError(
      `schema header ${excerpt(schema, 80)} is not one this consumer reads (${KNOWN_TICK_SCHEMAS.join(", ")})`,
      { kind: "unknown-schema" },
    );
  const tick = decodeTick(message.value);
  const at = tickTime(tick);
  const timeProblem = sourceTimeProblem(tick, nowMs, "the consumer's clock", at);
  if (timeProblem) throw new InvalidTickError(timeProblem, { kind: "implausible-time" });
  if (message.key !== null && message.key !== tickKey(tick))
    throw new InvalidTickError(
      `key ${excerpt(message.key, 80)} does not match the tick's pair ${tickKey(tick)}`,
      { kind: "key-mismatch" },
    );
  return { tick, at };
}

/**
 * Keeps the newest tick of each pair, in the order the pairs first appear: a latest cache needs one write per
 * pair per batch. Each tick's time comes from `timed` when given (parsed once at decoding), else from
 * {@link tickTime}.
 * @example newestPerPair(ticks) // one tick per asset:currency
 */
export function newestPerPair(ticks: readonly Tick[] | readonly TimedTick[]): Tick[] {
  const newest = new Map<string, TimedTick>();
  for (const item of ticks) {
    const timed = "tick" in item ? item : { tick: item, at: tickTime(item) };
    const key = tickKey(timed.tick);
    const held = newest.get(key);
    if (!held || timed.at > held.at) newest.set(key, timed);
  }
  return Array.from(newest.values(), (timed) => timed.tick);
}
