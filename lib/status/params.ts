// Validation of every request parameter of the status app. Query strings are strict: an unknown or repeated
// key is a 400, so that a typo (`?curency=eur`) never silently falls back to a default.
import { z } from "zod";
import { RANGE_LIMIT } from "../candles.ts";
import { CANDLE_INTERVALS, type CandleInterval } from "../ports.ts";
import { tickSchema } from "../tick.ts";

/** Asset and currency ids, exactly as the tick schema accepts them (so a path like `..` never gets through). */
export const idSchema = tickSchema.shape.asset;

// Currency used when a history or candles request names none: the project's default pair is in USD.
const DEFAULT_CURRENCY = "usd";

// Earliest and latest instants accepted, so that date arithmetic never overflows or means nothing.
const MIN_TIME = Date.UTC(2009, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);

/**
 * A point in time: ISO 8601 date-time with offset (`2026-11-26T18:00:00Z`), ISO date (`2026-11-26`, midnight
 * UTC), or epoch milliseconds (`1795723200000`); between 2009 and 2100.
 */
export const timeSchema = z
  .string()
  .max(40)
  .meta({ examples: ["2026-11-26T18:00:00Z", "2026-11-26", "1795723200000"] })
  .refine(
    (value) =>
      /^\d{1,13}$/.test(value) ||
      z.iso.datetime({ offset: true }).safeParse(value).success ||
      z.iso.date().safeParse(value).success,
    "expected an ISO 8601 date-time (2026-11-26T18:00:00Z), a date (2026-11-26) or epoch milliseconds",
  )
  .transform((value) => new Date(/^\d{1,13}$/.test(value) ? Number(value) : Date.parse(value)))
  .refine(
    (date) => date.getTime() >= MIN_TIME && date.getTime() < MAX_TIME,
    "expected a time between 2009 and 2100",
  );

// A positive integer written in plain digits (no exponent, sign or blanks), at most RANGE_LIMIT.max.
const limitSchema = z
  .string()
  .regex(/^\d{1,6}$/, "expected a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1).max(RANGE_LIMIT.max));

/** Query of `GET /api/pairs`: none. */
export const pairsQuery = z.strictObject({});

/** `:asset` path parameter. */
export const assetParams = z.strictObject({ asset: idSchema });

/** Query of `GET /api/latest/:asset`: every currency, or one. */
export const latestQuery = z.strictObject({
  currency: idSchema.optional().meta({ description: "Only this currency." }),
});

// A window bound, described for the OpenAPI document (which reads the schemas' metadata).
const bound = (what: string) =>
  timeSchema.optional().meta({
    description: `${what}. An ISO 8601 date-time with offset, an ISO date (midnight UTC) or epoch milliseconds; 2009 to 2100.`,
  });

const beforeTo = (query: { from?: Date | undefined; to?: Date | undefined }) =>
  !query.from || !query.to || query.from.getTime() < query.to.getTime();

/** Query of `GET /api/history/:asset`: the most recent `limit` ticks of a window, oldest first. */
export const historyQuery = z
  .strictObject({
    currency: idSchema.default(DEFAULT_CURRENCY),
    from: bound("Inclusive start"),
    to: bound("Exclusive end"),
    limit: limitSchema.default(RANGE_LIMIT.default).meta({
      description: `How many of the window's most recent ticks, 1 to ${RANGE_LIMIT.max}; default ${RANGE_LIMIT.default}.`,
    }),
  })
  .refine(beforeTo, { message: "from must be before to", path: ["from"] });

/** Window a candles request covers when it gives no `from`: about 300 to 400 candles of each width. */
export const DEFAULT_CANDLE_WINDOW_MS: Record<CandleInterval, number> = {
  "5m": 86_400_000,
  "1h": 14 * 86_400_000,
  "1d": 365 * 86_400_000,
};
/** Most candles one request may ask for, so that a 5m request over years cannot load the store. */
export const MAX_CANDLES = 5000;

const intervals = Object.keys(CANDLE_INTERVALS) as [CandleInterval, ...CandleInterval[]];
/** A candle width, one of {@link CANDLE_INTERVALS}. */
export const intervalSchema = z.enum(intervals);

/** Query of `GET /api/candles/:asset`, before defaults that depend on the clock (see {@link candleWindow}). */
export const candlesQuery = z
  .strictObject({
    currency: idSchema.default(DEFAULT_CURRENCY),
    interval: intervalSchema.default("1h"),
    from: bound("Inclusive start"),
    to: bound("Exclusive end; default now"),
  })
  .refine(beforeTo, { message: "from must be before to", path: ["from"] });

/**
 * The window of a candles request: `to` defaults to now, `from` to {@link DEFAULT_CANDLE_WINDOW_MS} before it;
 * returns an error message when the window holds more than {@link MAX_CANDLES} candles.
 */
export function candleWindow(
  query: z.infer<typeof candlesQuery>,
  now: number,
): { from: Date; to: Date } | { error: string } {
  const to = query.to ?? new Date(Math.max(now, (query.from?.getTime() ?? 0) + 1));
  const from = query.from ?? new Date(to.getTime() - DEFAULT_CANDLE_WINDOW_MS[query.interval]);
  const candles = (to.getTime() - from.getTime()) / CANDLE_INTERVALS[query.interval];
  if (candles > MAX_CANDLES)
    return { error: `window too wide: at most ${MAX_CANDLES} candles of ${query.interval} per request` };
  return { from, to };
}

/** Chart ranges of the page. */
export const PAGE_RANGES = { "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
/** One of {@link PAGE_RANGES}. */
export type PageRange = keyof typeof PAGE_RANGES;

const ranges = Object.keys(PAGE_RANGES) as [PageRange, ...PageRange[]];
const pairParam = z.string().regex(/^[a-z0-9][a-z0-9._-]*:[a-z0-9][a-z0-9._-]*$/);

/**
 * Query of the page. Lenient on purpose, unlike the API: a person following an old link gets the default
 * view rather than an error page.
 */
export const pageQuery = z.object({
  pair: pairParam.max(201).optional().catch(undefined),
  range: z.enum(ranges).catch("24h"),
});
