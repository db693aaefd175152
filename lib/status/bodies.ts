// The JSON answers of the API as zod schemas: the routes check their bodies against them at compile time and
// openapi.ts turns them into the document's components, so that the document cannot drift from the routes.
import { z } from "zod";
import { RANGE_LIMIT } from "../candles.ts";
import { tickSchema } from "../tick.ts";
import { idSchema, intervalSchema } from "./params.ts";

const time = z.iso.datetime();
const pair = z.object({ asset: idSchema, currency: idSchema });
const candle = z.object({
  start: time,
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  count: z.int().min(1),
});
const issue = z.object({
  path: z
    .string()
    .meta({ description: 'Dotted path of the offending parameter ("limit"), "" for the whole query.' }),
  message: z.string(),
});

/** The answers and their parts, by the name the OpenAPI document gives each (`#/components/schemas/Tick`). */
export const BODIES = {
  Pair: pair,
  Tick: tickSchema,
  Candle: candle,
  Error: z.object({ error: z.string(), issues: z.array(issue).optional() }),
  Pairs: z.object({ pairs: z.array(pair) }),
  Latest: z.object({ asset: idSchema, ticks: z.array(tickSchema) }),
  History: z.object({
    asset: idSchema,
    currency: idSchema,
    from: time.nullable(),
    to: time.nullable(),
    limit: z.int().min(1).max(RANGE_LIMIT.max),
    ticks: z.array(tickSchema),
  }),
  Candles: z.object({
    asset: idSchema,
    currency: idSchema,
    interval: intervalSchema,
    from: time,
    to: time,
    candles: z.array(candle),
  }),
};

/** The body of one answer, e.g. `Body<"History">`. */
export type Body<Name extends keyof typeof BODIES> = z.input<(typeof BODIES)[Name]>;

/** A validation problem as the API reports it. */
export type Issue = z.input<typeof issue>;
