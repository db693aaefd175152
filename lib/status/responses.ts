// JSON error answers of the status app: a short reason, never a stack or an adapter's message.
import type { Context } from "hono";
import { describeError, SinkError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Body, Issue } from "./bodies.ts";

type ErrorBody = Body<"Error">;

// Errors must not be cached by the browser or a proxy: the next try may well succeed.
const NO_STORE = { "Cache-Control": "no-store" };

/** 400 with the validation issues. */
export function badRequest(c: Context, error: string, issues?: Issue[]) {
  const body: ErrorBody = issues ? { error, issues } : { error };
  return c.json(body, 400, NO_STORE);
}

/** 404 naming what was not found. */
export function notFound(c: Context, error = "not found") {
  return c.json({ error } satisfies ErrorBody, 404, NO_STORE);
}

/** 503 naming the sink that failed ("cache unavailable"); the details go to the log only. */
export function unavailable(c: Context, reason: string) {
  return c.json({ error: reason } satisfies ErrorBody, 503, { ...NO_STORE, "Retry-After": "5" });
}

/**
 * The answer to an error no route handled: 503 for a sink failure, 500 otherwise; logged, never echoed.
 * @example app.onError((error, c) => errorResponse(error, c, log));
 */
export function errorResponse(error: unknown, c: Context, log: Logger | undefined): Response {
  if (error instanceof SinkError) {
    log?.warn("status: sink unavailable", {
      sink: error.sink,
      path: c.req.path,
      error: describeError(error),
    });
    return unavailable(c, `${error.sink} unavailable`);
  }
  log?.error("status: request failed", { path: c.req.path, error: describeError(error) });
  return c.json({ error: "internal error" } satisfies ErrorBody, 500, NO_STORE);
}
