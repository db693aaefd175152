// OpenAPI 3.1 description of the JSON API, hand-written next to params.ts: keep both in step.
import { RANGE_LIMIT } from "../candles.ts";
import { CANDLE_INTERVALS } from "../ports.ts";
import { DEFAULT_CANDLE_WINDOW_MS, DEFAULT_CURRENCY, MAX_CANDLES } from "./params.ts";

const id = { type: "string", pattern: "^[a-z0-9][a-z0-9._-]*$", maxLength: 100 };
const time = {
  type: "string",
  description:
    "ISO 8601 date-time with offset, ISO date (midnight UTC), or epoch milliseconds; 2009 to 2100.",
  examples: ["2026-11-26T18:00:00Z", "2026-11-26", "1795723200000"],
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: json(ref("Error")) });
const assetParam = { name: "asset", in: "path", required: true, schema: id, example: "beldex" };
const currencyParam = (description: string) => ({
  name: "currency",
  in: "query",
  required: false,
  schema: id,
  description,
});
const common = {
  "400": error("Invalid parameters (unknown, repeated or malformed)."),
  "503": error("A sink (cache or history) is unavailable."),
};

/**
 * The OpenAPI 3.1 document served at `/openapi.json`.
 * @example openApiDocument().paths["/api/pairs"]
 */
export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "belly-stream status API",
      version: "1.0.0",
      description:
        "Latest prices, history and candles of the pairs belly-stream streams from CoinGecko. JSON answers carry an ETag and `Cache-Control: no-cache`; send `If-None-Match` to get a 304 when nothing changed.",
    },
    paths: {
      "/api/pairs": {
        get: {
          summary: "Every pair with a cached latest price",
          operationId: "listPairs",
          responses: {
            "200": {
              description: "Pairs sorted by asset, then currency.",
              content: json({
                type: "object",
                required: ["pairs"],
                properties: { pairs: { type: "array", items: ref("Pair") } },
              }),
            },
            "503": common["503"],
          },
        },
      },
      "/api/latest/{asset}": {
        get: {
          summary: "Latest price of an asset in every currency, or in one",
          operationId: "getLatest",
          parameters: [assetParam, currencyParam("Only this currency.")],
          responses: {
            "200": {
              description: "One tick per currency.",
              content: json({
                type: "object",
                required: ["asset", "ticks"],
                properties: { asset: id, ticks: { type: "array", items: ref("Tick") } },
              }),
            },
            ...common,
            "404": error("Unknown asset or pair."),
          },
        },
      },
      "/api/history/{asset}": {
        get: {
          summary: "Ticks of one pair in a window, oldest first",
          description: "The most recent `limit` ticks of the window [from, to).",
          operationId: "getHistory",
          parameters: [
            assetParam,
            currencyParam(`Default ${DEFAULT_CURRENCY}.`),
            { name: "from", in: "query", schema: time, description: "Inclusive start." },
            { name: "to", in: "query", schema: time, description: "Exclusive end." },
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: RANGE_LIMIT.max, default: RANGE_LIMIT.default },
            },
          ],
          responses: {
            "200": {
              description: "The ticks (empty when the pair has none in the window).",
              content: json({
                type: "object",
                required: ["asset", "currency", "from", "to", "limit", "ticks"],
                properties: {
                  asset: id,
                  currency: id,
                  from: { type: ["string", "null"], format: "date-time" },
                  to: { type: ["string", "null"], format: "date-time" },
                  limit: { type: "integer" },
                  ticks: { type: "array", items: ref("Tick") },
                },
              }),
            },
            ...common,
            "404": error("Unknown pair."),
          },
        },
      },
      "/api/candles/{asset}": {
        get: {
          summary: "OHLC candles of one pair, computed by the history store",
          description: `Buckets start on UTC multiples of the interval. Without \`from\`, the window is the last ${Object.entries(
            DEFAULT_CANDLE_WINDOW_MS,
          )
            .map(([interval, ms]) => `${ms / 86_400_000} days for ${interval}`)
            .join(", ")}; at most ${MAX_CANDLES} candles per request.`,
          operationId: "getCandles",
          parameters: [
            assetParam,
            currencyParam(`Default ${DEFAULT_CURRENCY}.`),
            {
              name: "interval",
              in: "query",
              schema: { type: "string", enum: Object.keys(CANDLE_INTERVALS), default: "1h" },
            },
            { name: "from", in: "query", schema: time, description: "Inclusive start." },
            { name: "to", in: "query", schema: time, description: "Exclusive end; default now." },
          ],
          responses: {
            "200": {
              description: "Candles, oldest first.",
              content: json({
                type: "object",
                required: ["asset", "currency", "interval", "from", "to", "candles"],
                properties: {
                  asset: id,
                  currency: id,
                  interval: { type: "string", enum: Object.keys(CANDLE_INTERVALS) },
                  from: { type: "string", format: "date-time" },
                  to: { type: "string", format: "date-time" },
                  candles: { type: "array", items: ref("Candle") },
                },
              }),
            },
            ...common,
            "404": error("Unknown pair."),
          },
        },
      },
      "/api/stream": {
        get: {
          summary: "Live ticks as server-sent events",
          description:
            "Events: `tick` (data: {card, health}) after each committed batch, and `health` (data: the health panel) as a heartbeat.",
          operationId: "streamTicks",
          responses: {
            "200": {
              description: "An event stream.",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            "503": error("Live updates not enabled, or too many streams open."),
          },
        },
      },
    },
    components: {
      schemas: {
        Pair: {
          type: "object",
          required: ["asset", "currency"],
          properties: { asset: id, currency: id },
        },
        Tick: {
          type: "object",
          description: "Message v1: one price of one asset in one currency, as CoinGecko reported it.",
          required: [
            "v",
            "asset",
            "currency",
            "price",
            "marketCap",
            "volume24h",
            "change24hPct",
            "sourceUpdatedAt",
            "fetchedAt",
            "source",
          ],
          properties: {
            v: { const: 1 },
            asset: id,
            currency: id,
            price: { type: "number", exclusiveMinimum: 0 },
            marketCap: { type: ["number", "null"] },
            volume24h: { type: ["number", "null"] },
            change24hPct: { type: ["number", "null"] },
            sourceUpdatedAt: { type: "string", format: "date-time" },
            fetchedAt: { type: "string", format: "date-time" },
            source: { type: "string", minLength: 1, maxLength: 50 },
          },
        },
        Candle: {
          type: "object",
          required: ["start", "open", "high", "low", "close", "count"],
          properties: {
            start: { type: "string", format: "date-time" },
            open: { type: "number" },
            high: { type: "number" },
            low: { type: "number" },
            close: { type: "number" },
            count: { type: "integer", minimum: 1 },
          },
        },
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: { type: "string" },
            issues: {
              type: "array",
              items: {
                type: "object",
                required: ["path", "message"],
                properties: { path: { type: "string" }, message: { type: "string" } },
              },
            },
          },
        },
      },
    },
  };
}
