/**
 * What Upstash REST failures mean, for the latest cache (SinkError hints) and the doctor (FAIL fixes) alike:
 * no answer or an Upstash outage is worth another attempt; a wrong URL or token is a setting to fix.
 */
import { errors as upstashErrors } from "@upstash/redis";

/** Why an Upstash request failed. */
type UpstashFailureKind = "unreachable" | "server" | "not-upstash" | "token" | "read-only";

/** A classified Upstash failure: whether trying again later may succeed, and the one-line fix. */
interface UpstashFailure {
  kind: UpstashFailureKind;
  retriable: boolean;
  fix: string;
}

/** What came back: the HTTP status (none when nothing answered), the body's `error`, and whether it was JSON. */
interface UpstashAnswer {
  status?: number;
  error?: string;
  json?: boolean;
}

/** The fix per kind; a REST URL or token mix-up (the rediss:// URL, the password) is the usual cause. */
export const UPSTASH_FIXES: Readonly<Record<UpstashFailureKind, string>> = {
  unreachable: "check REDIS_URL: the REST URL from the Upstash console, https://<name>.upstash.io",
  server: "Upstash is having trouble; see https://status.upstash.com",
  "not-upstash":
    "set REDIS_URL to the REST URL from the Upstash console, https://<name>.upstash.io, with no path",
  token:
    "copy the REST token (UPSTASH_REDIS_REST_TOKEN) of this database from the Upstash console into REDIS_TOKEN",
  "read-only": "use the standard REST token (not the read-only one) in REDIS_TOKEN",
};

/**
 * Says what an Upstash answer means, or undefined when it is none of the failures users run into.
 * @example classifyUpstash({ status: 401, error: "Unauthorized", json: true })?.kind // "token"
 */
export function classifyUpstash(answer: UpstashAnswer): UpstashFailure | undefined {
  const { status, error = "" } = answer;
  const failure = (kind: UpstashFailureKind, retriable = false) => ({
    kind,
    retriable,
    fix: UPSTASH_FIXES[kind],
  });
  if (status === undefined && !error && answer.json === undefined) return failure("unreachable", true);
  if (status !== undefined && status >= 500) return failure("server", true);
  // Before "token": a read-only token is a valid token that was refused one command.
  if (/NOPERM|read.?only/i.test(error)) return failure("read-only");
  if (status === 401 || status === 403 || /^Unauthorized|WRONGPASS|auth token/i.test(error))
    return failure("token");
  if (status === 404 || answer.json === false) return failure("not-upstash");
  return undefined;
}

/**
 * The answer behind an @upstash/redis error. The client hides the HTTP status: a non-2xx answer becomes an
 * UpstashError whose message is the body's `error` ("Unauthorized" for a bad token), a body that is not JSON an
 * UpstashJSONParseError, and no answer at all stays the fetch error.
 */
export function upstashAnswerOf(error: unknown): UpstashAnswer {
  if (error instanceof upstashErrors.UpstashJSONParseError) return { json: false };
  if (error instanceof upstashErrors.UpstashError) return { error: error.message, json: true };
  return {};
}
