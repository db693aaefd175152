/**
 * Upstash REST checks for https:// REDIS_URL + REDIS_TOKEN, with plain fetch: reachable, token accepted (PING),
 * and scripts allowed (a read-only token may not EVAL; the latest-price cache writes through a script).
 */

import { type Check, type CheckGroup, fail, ok } from "../../checks/check.ts";
import { type HttpAnswer as Answer, type Fetch, request } from "../../checks/http.ts";
import { describeError, excerpt } from "../../errors.ts";
import { classifyUpstash, UPSTASH_FIXES, upstashAnswerOf } from "./failures.ts";

function command(fetchImpl: Fetch, url: string, token: string, args: string[], signal: AbortSignal) {
  return request(fetchImpl, url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(args),
    signal,
  });
}

const errorOf = (answer: Answer): string =>
  typeof (answer.body as { error?: unknown })?.error === "string"
    ? String((answer.body as { error: string }).error)
    : excerpt(answer.text, 120);

const failureOf = (answer: Answer) =>
  classifyUpstash({ status: answer.status, error: errorOf(answer), json: answer.body !== undefined });

/**
 * The Upstash check group: reach → token (PING) → scripts (EVAL).
 * @example const group = upstashChecks("https://eu1-x.upstash.io", token);
 */
export function upstashChecks(url: string, token: string, fetchImpl: Fetch = fetch): CheckGroup {
  const base = url.replace(/\/+$/, "");
  const host = new URL(base).host;
  let ping: Answer | undefined;

  const reach: Check = {
    id: "upstash.reach",
    title: `reach ${host}`,
    async run(signal) {
      try {
        ping = await command(fetchImpl, base, token, ["PING"], signal);
      } catch (error) {
        if (signal.aborted) throw error;
        // A host that does not exist gets its own fix: the URL is wrong, not the network.
        const fix = classifyUpstash(upstashAnswerOf(error))?.fix ?? UPSTASH_FIXES.unreachable;
        return fail(`cannot reach ${host}: ${describeError(error)}`, fix);
      }
      const failure = failureOf(ping);
      if (failure?.kind === "server") return fail(`${host} answered HTTP ${ping.status}`, failure.fix);
      if (failure?.kind === "not-upstash")
        return fail(
          `${host} does not look like an Upstash REST endpoint (HTTP ${ping.status}: ${excerpt(ping.text, 80)})`,
          failure.fix,
        );
      return ok(`reachable (${host}, Upstash REST, HTTP ${ping.status})`);
    },
  };

  const auth: Check = {
    id: "upstash.token",
    title: "REDIS_TOKEN",
    needs: [reach.id],
    async run() {
      if (!ping) throw new Error("no PING answer");
      const failure = failureOf(ping);
      if (failure?.kind === "token")
        return fail(`REDIS_TOKEN rejected (HTTP ${ping.status}: ${errorOf(ping)})`, failure.fix);
      const result = (ping.body as { result?: unknown })?.result;
      if (ping.status !== 200 || result !== "PONG")
        return fail(`PING answered HTTP ${ping.status}: ${errorOf(ping)}`, "check REDIS_URL and REDIS_TOKEN");
      return ok("REDIS_TOKEN accepted (PING answered PONG)");
    },
  };

  const scripts: Check = {
    id: "upstash.scripts",
    title: "run Lua scripts",
    needs: [auth.id],
    async run(signal) {
      const answer = await command(fetchImpl, base, token, ["EVAL", "return 1", "0"], signal);
      if (answer.status === 200 && Number((answer.body as { result?: unknown })?.result) === 1)
        return ok("Lua scripts allowed (EVAL), as the latest-price cache needs");
      const error = errorOf(answer);
      const failure = failureOf(answer);
      if (failure?.kind === "read-only")
        return fail(`REDIS_TOKEN may not run scripts (${error}); is it the read-only token?`, failure.fix);
      return fail(
        `a test script failed (HTTP ${answer.status}: ${error})`,
        "check that this Upstash database allows EVAL",
      );
    },
  };

  return { subject: "upstash", checks: [reach, auth, scripts] };
}
