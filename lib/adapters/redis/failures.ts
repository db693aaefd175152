/**
 * What Redis' failures mean, for the latest cache (SinkError hints) and the doctor (FAIL fixes) alike: an
 * unreachable server is worth another attempt; a rejected password or a refused script is a setting to fix.
 */
import { describeError } from "../../errors.ts";

/** Why a Redis command failed. */
type RedisFailureKind = "password" | "no-password" | "auth" | "no-script-acl" | "no-scripts" | "unreachable";

/** A classified Redis failure: whether trying again later may succeed, and the one-line fix. */
interface RedisFailure {
  kind: RedisFailureKind;
  retriable: boolean;
  fix: string;
}

/**
 * Says what a Redis error means, or undefined when it is none of the failures users run into. `user` is the
 * REDIS_URL user, named in the ACL fix. Default "default".
 * @example classifyRedisError(new Error("WRONGPASS invalid username-password pair"))?.kind // "password"
 */
export function classifyRedisError(error: unknown, user = "default"): RedisFailure | undefined {
  const text = `${String((error as { code?: unknown })?.code ?? "")} ${describeError(error)}`;
  const failure = (kind: RedisFailureKind, fix: string, retriable = false) => ({ kind, retriable, fix });
  if (/WRONGPASS|AUTHENTICATION_FAILED|invalid password|invalid username-password/i.test(text))
    return failure("password", "check the user name and password in REDIS_URL");
  if (/NOAUTH/i.test(text))
    return failure(
      "no-password",
      "add the password to REDIS_URL (user default unless the provider names another)",
    );
  if (/AUTH/i.test(text)) return failure("auth", "check the user name and password in REDIS_URL");
  // NOPERM on another command (a key pattern, say) is not about scripts, and is left unclassified.
  if (/NOPERM.*\b(eval|evalsha|script)\b/i.test(text))
    return failure(
      "no-script-acl",
      `allow them: ACL SETUSER ${user} +eval +evalsha +script (or +@scripting)`,
    );
  if (/unknown command|disabled/i.test(text))
    return failure(
      "no-scripts",
      "use a Redis that allows EVAL (Upstash, Redis Cloud and self-hosted Redis do)",
    );
  if (/ECONNREFUSED|connect|closed|reset|timeout/i.test(text))
    return failure("unreachable", "check that Redis runs and REDIS_URL is right", true);
  return undefined;
}
