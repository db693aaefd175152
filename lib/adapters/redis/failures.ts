/**
 * What Redis failures mean, for the latest cache (SinkError) and the doctor (FAIL lines) alike: an unreachable
 * server is worth another attempt; a rejected password or a refused script is a setting to fix.
 */
import { describeError, type Failure } from "../../errors.ts";

/** The fix per kind of failure; `user` is the REDIS_URL user. */
const fixes = (user: string) => ({
  password: "check the user name and password in REDIS_URL",
  "no-password": "add the password to REDIS_URL (user default unless the provider names another)",
  auth: "check the user name and password in REDIS_URL",
  "no-script-acl": `allow them: ACL SETUSER ${user} +eval +evalsha +script (or +@scripting)`,
  "no-scripts": "use a Redis that allows EVAL (Upstash, Redis Cloud and self-hosted Redis do)",
  unreachable: "check that Redis runs and REDIS_URL is right",
});

type RedisFailureKind = keyof ReturnType<typeof fixes>;

function kindOf(text: string): RedisFailureKind | undefined {
  // NOPERM on another command (a key pattern, say) is not about scripts, and is left unclassified.
  if (/NOPERM.*\b(eval|evalsha|script)\b/i.test(text)) return "no-script-acl";
  if (/WRONGPASS|AUTHENTICATION_FAILED|invalid password|invalid username-password/i.test(text))
    return "password";
  if (/NOAUTH/i.test(text)) return "no-password";
  if (/\bAUTH\b/i.test(text)) return "auth";
  if (/unknown command|disabled/i.test(text)) return "no-scripts";
  if (/ECONNREFUSED|connect|closed|reset|timeout/i.test(text)) return "unreachable";
  return undefined;
}

/**
 * Says what a Redis error means, or undefined when it is none of the failures users run into. `user` is the
 * REDIS_URL user, named in the ACL fix. Default "default".
 * @example classifyRedisError(new Error("WRONGPASS invalid username-password pair"))?.kind // "password"
 */
export function classifyRedisError(error: unknown, user = "default"): Failure<RedisFailureKind> | undefined {
  const kind = kindOf(`${String((error as { code?: unknown })?.code ?? "")} ${describeError(error)}`);
  return kind && { kind, retriable: kind === "unreachable", fix: fixes(user)[kind] };
}
