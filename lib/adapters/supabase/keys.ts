import { ConfigError } from "../../errors.ts";

/** What a Supabase key is: the one place that reads a key's role, for the config, the adapter and the doctor. */

/** The one line printed when only the public key could write. */
export const ANON_WRITE_REFUSAL =
  "SUPABASE_SERVICE_ROLE_KEY: expected the service role key; the public anon key must never write prices";

/** Whether the key is a legacy JWT key (the new sb_ keys are opaque). */
export const isJwt = (key: string): boolean => /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(key);

/**
 * The role a Supabase key grants: the `role` claim of a legacy JWT key, or the kind of a new sb_ key; null
 * for an opaque key or garbage.
 * @example keyRole("sb_publishable_abc") // "anon"
 */
export function keyRole(key: string): string | null {
  if (key.startsWith("sb_publishable_")) return "anon";
  if (key.startsWith("sb_secret_")) return "service_role";
  const parts = key.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    return typeof payload?.role === "string" ? payload.role : null;
  } catch {
    return null;
  }
}

/**
 * Returns the key the consumer may write prices with, or throws ConfigError with {@link ANON_WRITE_REFUSAL}
 * when there is no service role key, or when it is the anon key in disguise (equal to SUPABASE_ANON_KEY,
 * an `sb_publishable_…` key, or a JWT whose role is not service_role). Opaque keys are left to the server.
 * @example const key = assertWriteKey({ anonKey, serviceRoleKey });
 */
export function assertWriteKey(keys: { anonKey: string | null; serviceRoleKey: string | null }): string {
  const key = keys.serviceRoleKey;
  const role = key ? keyRole(key) : null;
  if (!key || key === keys.anonKey || (role !== null && role !== "service_role"))
    throw new ConfigError([ANON_WRITE_REFUSAL]);
  return key;
}
