/**
 * What Upstash REST failures mean, for the latest cache (SinkError) and the doctor (FAIL lines) alike: no answer
 * or an Upstash outage is worth another attempt; a wrong URL or token is a setting to fix, and so is a host
 * name that does not exist (a typo in the URL would otherwise look like an outage and be waited out forever).
 */
import { errors as upstashErrors } from "@upstash/redis";
import type { Failure } from "../../errors.ts";

/**
 * What came back: the HTTP status and the body's `error`, and whether it was JSON (neither: no answer);
 * `unknownHost` when there was no answer because the URL's host name does not exist.
 */
interface UpstashAnswer {
  status?: number;
  error?: string;
  json?: boolean;
  unknownHost?: boolean;
}

/** The fix per kind; a REST URL or token mix-up (the rediss:// URL, the password) is the usual cause. */
export const UPSTASH_FIXES = {
  unreachable: "check REDIS_URL: the REST URL from the Upstash console, https://<name>.upstash.io",
  "unknown-host":
    "check REDIS_URL: its host does not exist; copy the REST URL (UPSTASH_REDIS_REST_URL) from the Upstash console, https://<name>.upstash.io",
  server: "Upstash is having trouble; see https://status.upstash.com",
  "not-upstash":
    "set REDIS_URL to the REST URL from the Upstash console, https://<name>.upstash.io, with no path",
  token:
    "copy the REST token (UPSTASH_REDIS_REST_TOKEN) of this database from the Upstash console into REDIS_TOKEN",
  "read-only": "use the standard REST token (not the read-only one) in REDIS_TOKEN",
} as const;

type UpstashFailureKind = keyof typeof UPSTASH_FIXES;

function kindOf({ status, error = "", json, unknownHost }: UpstashAnswer): UpstashFailureKind | undefined {
  if (unknownHost) return "unknown-host";
  if (status === undefined && json === undefined) return "unreachable";
  if (status !== undefined && status >= 500) return "server";
  // Before "token": a read-only token is a valid token that was refused one command.
  if (/NOPERM|read.?only/i.test(error)) return "read-only";
  if (status === 401 || status === 403 || /^Unauthorized|WRONGPASS|auth token/i.test(error)) return "token";
  if (status === 404 || json === false) return "not-upstash";
  return undefined;
}

/**
 * Says what an Upstash answer means, or undefined when it is none of the failures users run into.
 * @example classifyUpstash({ status: 401, error: "Unauthorized", json: true })?.kind // "token"
 */
export function classifyUpstash(answer: UpstashAnswer): Failure<UpstashFailureKind> | undefined {
  const kind = kindOf(answer);
  return kind && { kind, retriable: kind === "unreachable" || kind === "server", fix: UPSTASH_FIXES[kind] };
}

/**
 * The answer behind an @upstash/redis error. The client hides the HTTP status: a non-2xx answer becomes an
 * UpstashError whose message is the body's `error` ("Unauthorized" for a bad token), a body that is not JSON an
 * UpstashJSONParseError, and no answer at all stays the fetch error, whose code tells a name that does not
 * exist (ENOTFOUND) from a resolver that failed for now (EAI_AGAIN, still an outage).
 */
export function upstashAnswerOf(error: unknown): UpstashAnswer {
  if (error instanceof upstashErrors.UpstashJSONParseError) return { json: false };
  if (error instanceof upstashErrors.UpstashError) return { error: error.message, json: true };
  return isUnknownHost(error) ? { unknownHost: true } : {};
}

/** Whether a fetch error, or one of its causes, says the host name does not exist. */
function isUnknownHost(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 3; depth++) {
    if ((cause as { code?: unknown }).code === "ENOTFOUND" || /\bENOTFOUND\b/.test(cause.message))
      return true;
    cause = cause.cause;
  }
  return false;
}
