// A validator middleware driven by the zod schemas of params.ts: a route reads `c.req.valid("query")`
// or `c.req.valid("param")`, and anything that does not fit is answered 400 with the issues before it runs.
import type { Env, MiddlewareHandler } from "hono";
import type { InferInput } from "hono/validator";
import { z } from "zod";
import type { Issue } from "./bodies.ts";
import { badRequest } from "./responses.ts";

// Zod issues as short Issues, at most ten (never the rejected input itself).
const issuesOf = (error: z.ZodError): Issue[] =>
  error.issues
    .slice(0, 10)
    .map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));

// The query as the strict schemas must see it: every key, a repeated one as the array of its values (which the
// schemas reject). Hono's own query object drops a key without a name ("?=x"), which would let it through.
function queryObject(url: URL): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    result[key] = values.length === 1 ? (values[0] ?? "") : values;
  }
  return result;
}

// Most requests carry no query: no URL to parse then.
const queryOf = (url: string) => (url.includes("?") ? queryObject(new URL(url)) : {});

type Target = "query" | "param";
type Validated<T extends Target, S extends z.ZodType> = {
  in: { [K in T]: InferInput<z.input<S>, K> };
  out: { [K in T]: z.output<S> };
};

/**
 * Validates the query or the path parameters with `schema`; a mismatch is a 400
 * `{ error: "invalid parameters", issues }`.
 * @example api.get("/history/:asset", valid("param", assetParams), valid("query", historyQuery), handler);
 */
export function valid<T extends Target, S extends z.ZodType>(
  target: T,
  schema: S,
): MiddlewareHandler<Env, string, Validated<T, S>, ReturnType<typeof badRequest>> {
  // Compiled ahead of time by zod, as the tick schema is: the same output and issues, a fraction of the time
  // of the runtime parser on every request.
  const compiled = z.compile(schema);
  // Not hono/validator: it reads the Content-Type header and Hono's own parse of the query for every target,
  // which a query or path check never uses (about a tenth of an /api/latest answer's time). The validated data
  // goes where that middleware puts it, for `c.req.valid()`.
  const middleware: MiddlewareHandler = async (c, next) => {
    const result = compiled.safeParse(target === "query" ? queryOf(c.req.url) : c.req.param());
    if (!result.success) return badRequest(c, "invalid parameters", issuesOf(result.error));
    c.req.addValidatedData(target, result.data as object);
    await next();
  };
  // Hono infers the output from the callback, which TypeScript cannot resolve for a generic schema: the
  // types are restated from the schema, as @hono/zod-validator does.
  return middleware as unknown as MiddlewareHandler<
    Env,
    string,
    Validated<T, S>,
    ReturnType<typeof badRequest>
  >;
}
