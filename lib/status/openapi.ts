// OpenAPI 3.1 description of the JSON API, generated from the zod schemas that validate the requests
// (params.ts) and shape the answers (bodies.ts): only the prose is written here.
import { z } from "zod";
import { BODIES } from "./bodies.ts";
import {
  assetParams,
  candlesQuery,
  DEFAULT_CANDLE_WINDOW_MS,
  historyQuery,
  latestQuery,
  MAX_CANDLES,
  pairsQuery,
} from "./params.ts";

type Component = keyof typeof BODIES;

const answer = (description: string, schema: Component) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${schema}` } } },
});

// Parameters from the schema that validates them (as sent: strings), each with its schema's description.
function parametersOf(where: "path" | "query", schema: z.ZodType) {
  const { properties = {}, required = [] } = z.toJSONSchema(schema, { io: "input" });
  // zod writes every property of an object schema as a schema object, never as a bare `true`.
  const entries = Object.entries(properties as Record<string, z.core.JSONSchema.JSONSchema>);
  return entries.map(([name, { description, ...property }]) => ({
    name,
    in: where,
    required: required.includes(name),
    ...(description && { description }),
    schema: property,
  }));
}

interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  params?: z.ZodType;
  query: z.ZodType;
  ok: [description: string, body: Component];
  /** When the route answers 404: what was not found. */
  notFound?: string;
}

function getOperation({ params, query, ok, notFound, ...prose }: Operation) {
  return {
    get: {
      ...prose,
      parameters: [...(params ? parametersOf("path", params) : []), ...parametersOf("query", query)],
      responses: {
        "200": answer(...ok),
        "400": answer("Invalid parameters (unknown, repeated or malformed).", "Error"),
        ...(notFound && { "404": answer(notFound, "Error") }),
        "503": answer("A sink (cache or history) is unavailable.", "Error"),
      },
    },
  };
}

// Every answer schema once, referenced by name; each drops the $schema and $id the document does not need.
function components() {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(BODIES)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema, $id, ...schema }]) => [id, schema]));
}

const windows = Object.entries(DEFAULT_CANDLE_WINDOW_MS)
  .map(([interval, ms]) => `${ms / 86_400_000} days for ${interval}`)
  .join(", ");

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
      "/api/pairs": getOperation({
        operationId: "listPairs",
        summary: "Every pair with a cached latest price",
        query: pairsQuery,
        ok: ["Pairs sorted by asset, then currency.", "Pairs"],
      }),
      "/api/latest/{asset}": getOperation({
        operationId: "getLatest",
        summary: "Latest price of an asset in every currency, or in one",
        params: assetParams,
        query: latestQuery,
        ok: ["One tick per currency.", "Latest"],
        notFound: "Unknown asset or pair.",
      }),
      "/api/history/{asset}": getOperation({
        operationId: "getHistory",
        summary: "Ticks of one pair in a window, oldest first",
        description: "The most recent `limit` ticks of the window [from, to).",
        params: assetParams,
        query: historyQuery,
        ok: ["The ticks (empty when the pair has none in the window).", "History"],
        notFound: "Unknown pair.",
      }),
      "/api/candles/{asset}": getOperation({
        operationId: "getCandles",
        summary: "OHLC candles of one pair, computed by the history store",
        description: `Buckets start on UTC multiples of the interval. Without \`from\`, the window is the last ${windows}; at most ${MAX_CANDLES} candles per request.`,
        params: assetParams,
        query: candlesQuery,
        ok: ["Candles, oldest first.", "Candles"],
        notFound: "Unknown pair.",
      }),
      "/api/stream": {
        get: {
          operationId: "streamTicks",
          summary: "Live ticks as server-sent events",
          description:
            "Events: `tick` (data: {card, health}) after each committed batch, and `health` (data: the health panel) as a heartbeat.",
          responses: {
            "200": {
              description: "An event stream.",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            "503": answer("Live updates not enabled, or too many streams open.", "Error"),
          },
        },
      },
    },
    components: { schemas: components() },
  };
}
