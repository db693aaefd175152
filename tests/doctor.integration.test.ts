// `bun run doctor` against the real local stack (Kafka over SASL_SSL, Redis, Postgres), the PostgREST and Upstash
// bridges and a fake CoinGecko: run as a subprocess with an explicit environment, like a user would.
// A healthy setup exits 0 with only ok lines; each broken setting gives its own actionable FAIL line and exit 1.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { RedisClient, SQL } from "bun";
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Admin,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from "kafkajs";
import { type KafkaSession, openKafkaSession } from "../lib/adapters/kafka/acl-probe.ts";
import { kafkaChecks } from "../lib/adapters/kafka/doctor.ts";
import { authorizedOperations } from "../lib/adapters/kafka/protocol.ts";
import { migratePostgres } from "../lib/adapters/postgres/history.ts";
import { loadConfig } from "../lib/config.ts";
import { runChecks } from "../lib/doctor/run.ts";
import { type FakeCoinGecko, startFakeCoinGecko } from "./support/fake-coingecko.ts";
import { type PostgrestBridge, startPostgrestBridge } from "./support/postgrest-bridge.ts";
import { runEntry, waitFor } from "./support/processes.ts";
import {
  createTestDatabase,
  createTestTopic,
  deleteTopics,
  type StackInfo,
  type TestDatabase,
  useStack,
} from "./support/stack.ts";
import { startUpstashBridge, type UpstashBridge } from "./support/upstash-bridge.ts";

const ANON_KEY = "doctor-anon-key";
const SERVICE_KEY = "doctor-service-key";
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;

let stack: StackInfo;
let coingecko: FakeCoinGecko;
let admin: Admin;
const topics: string[] = [];
const databases: TestDatabase[] = [];
const bridges: { stop(): Promise<void> }[] = [];
const redisUsers: string[] = [];
/** Resource names we put ACLs on, removed in afterAll. */
const aclResources: { type: AclResourceTypes; name: string }[] = [];

/** A topic and its `<topic>.dlq`, as the producer expects them; both deleted in afterAll. */
async function topicWithDlq(prefix: string): Promise<string> {
  const topic = await createTestTopic(prefix, 1);
  topics.push(topic, `${topic}.dlq`);
  await admin.createTopics({ topics: [{ topic: `${topic}.dlq`, numPartitions: 1 }], waitForLeaders: true });
  return topic;
}

/** A scratch database, migrated unless told otherwise, dropped in afterAll. */
async function database(prefix: string, migrate = true): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  databases.push(db);
  if (migrate) await migratePostgres(db.url);
  return db;
}

async function sqlOn(url: string, statements: string): Promise<void> {
  const sql = new SQL({ url, max: 1 });
  try {
    await sql.unsafe(statements);
  } finally {
    await sql.close();
  }
}

async function postgrest(databaseUrl: string): Promise<PostgrestBridge> {
  const bridge = await startPostgrestBridge({ databaseUrl, anonKey: ANON_KEY, serviceRoleKey: SERVICE_KEY });
  bridges.push(bridge);
  return bridge;
}

/** ACLs for User:belly (or `principal`), added as the super user over SASL_SSL like an operator would. */
async function allow(
  principal: string,
  operation: AclOperationTypes,
  type: AclResourceTypes,
  name: string,
): Promise<void> {
  aclResources.push({ type, name });
  await admin.createAcls({
    acl: [
      {
        resourceType: type,
        resourceName: name,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal,
        host: "*",
        operation,
        permissionType: AclPermissionTypes.ALLOW,
      },
    ],
  });
}

/** The settings of a healthy setup: SASL_SSL as belly, Redis, a migrated database, the fake with a demo key. */
function healthyEnv(topic: string, group: string, databaseUrl: string): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.kafka.saslSsl,
    KAFKA_SSL: "true",
    KAFKA_CA_FILE: stack.kafka.caFile,
    KAFKA_SASL_MECHANISM: "scram-sha-256",
    KAFKA_USERNAME: stack.kafka.username,
    KAFKA_PASSWORD: stack.kafka.password,
    KAFKA_TOPIC: topic,
    KAFKA_CONSUMER_GROUP: group,
    REDIS_URL: stack.redisUrl,
    DATABASE_URL: databaseUrl,
    COINGECKO_BASE_URL: coingecko.url,
    COINGECKO_PLAN: "demo",
    COINGECKO_API_KEY: "demo-key-123",
    ASSETS: "beldex,bitcoin",
    VS_CURRENCIES: "usd",
  };
}

/** What one doctor subprocess printed. */
interface DoctorRun {
  code: number;
  lines: string[];
  /** The check lines (ok, warn, FAIL, skip). */
  report: string[];
  failures: string[];
}

/** Runs `bun run scripts/doctor.ts` with exactly `env`; returns its exit code and stdout lines. */
async function doctor(env: Record<string, string>): Promise<DoctorRun> {
  const { code, lines } = await runEntry("scripts/doctor.ts", env);
  const report = lines.filter((line) => /^(ok {2}|warn|FAIL|skip) /.test(line));
  return { code, lines, report, failures: report.filter((line) => line.startsWith("FAIL")) };
}

/**
 * Waits until the broker's authorizer applies new ACLs (they travel through the metadata log), asking as belly
 * until `applied` holds. ACL records apply in order, so waiting for the last one covers the earlier ones.
 */
async function untilEnforced(
  what: string,
  applied: (session: KafkaSession) => Promise<boolean>,
): Promise<void> {
  const config = loadConfig(healthyEnv("unused", "unused", "postgres://x@127.0.0.1/x")).kafka;
  if (!config) throw new Error("no kafka config");
  const session = openKafkaSession(config);
  try {
    await session.connect();
    await waitFor(what, () => applied(session));
  } finally {
    await session.close();
  }
}

const topicAllows = (topic: string, operation: "READ" | "WRITE") => async (session: KafkaSession) => {
  const { topics: [entry] = [] } = await session.metadata([topic]);
  return authorizedOperations(entry?.authorizedOperations ?? 0)?.has(operation) ?? false;
};

beforeAll(async () => {
  stack = await useStack();
  coingecko = await startFakeCoinGecko({ requireKey: { plan: "demo", key: "demo-key-123" } });
  admin = new Kafka({
    clientId: "doctor-test-admin",
    brokers: [stack.kafka.saslSsl],
    ssl: { ca: [readFileSync(stack.kafka.caFile, "utf8")] },
    sasl: {
      mechanism: "scram-sha-256",
      username: stack.kafka.adminUsername,
      password: stack.kafka.adminPassword,
    },
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
}, 180_000);

afterAll(async () => {
  for (const { type, name } of aclResources)
    await admin
      .deleteAcls({
        filters: [
          {
            resourceType: type,
            resourceName: name,
            resourcePatternType: ResourcePatternTypes.LITERAL,
            operation: AclOperationTypes.ANY,
            permissionType: AclPermissionTypes.ANY,
          },
        ],
      })
      .catch(() => {});
  await admin?.disconnect();
  await deleteTopics(topics).catch(() => {});
  await Promise.allSettled(bridges.map((b) => b.stop()));
  await Promise.allSettled(databases.map((db) => db.drop()));
  if (redisUsers.length) {
    const redis = new RedisClient(stack.redisUrl);
    for (const user of redisUsers) await redis.send("ACL", ["DELUSER", user]).catch(() => {});
    redis.close();
  }
  await coingecko?.stop();
});

describe("bun run doctor", () => {
  test("a healthy stack: every line ok (Kafka, Redis, Postgres, Supabase, CoinGecko), exit 0", async () => {
    const topic = await topicWithDlq("doctor-ok");
    const db = await database("doctor_ok");
    const supabase = await postgrest(db.url);
    const { code, lines, report } = await doctor({
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      SUPABASE_URL: supabase.url,
      SUPABASE_ANON_KEY: ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    });
    expect(report.filter((line) => !line.startsWith("ok "))).toEqual([]);
    expect(report).toHaveLength(8 + 3 + 7 + 4 + 2);
    expect(report).toContain(`ok   kafka: reachable (${stack.kafka.saslSsl}, TLS)`);
    expect(report).toContain('ok   kafka: signed in as "belly" (SCRAM-SHA-256); the cluster has 1 broker');
    expect(report).toContain(`ok   kafka: User:belly may WRITE topic ${topic} (producer)`);
    expect(report).toContain(
      "ok   supabase: anon cannot insert into price_history (permission denied; the probe row was refused)",
    );
    expect(lines.at(-1)).toStartWith("doctor: 24 ok, 0 warnings, 0 failed, 0 skipped");
    expect(lines.join("\n")).not.toContain(stack.kafka.password);
    expect(code).toBe(0);
  });

  test("Upstash instead of Redis: reachable, token accepted, scripts allowed", async () => {
    const token = `tok-${randomBytes(8).toString("hex")}`;
    const upstash: UpstashBridge = await startUpstashBridge({ redisUrl: stack.redisUrl, token, db: 5 });
    bridges.push(upstash);
    const topic = await topicWithDlq("doctor-upstash");
    const db = await database("doctor_upstash");
    const { code, report } = await doctor({
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      REDIS_URL: upstash.url,
      REDIS_TOKEN: token,
    });
    expect(report.filter((line) => line.startsWith("ok   upstash:"))).toHaveLength(3);
    expect(report).toContain("ok   upstash: REDIS_TOKEN accepted (PING answered PONG)");
    expect(code).toBe(0);
  });

  test("wrong Kafka password: one FAIL naming the user and KAFKA_PASSWORD; Kafka's other checks skipped", async () => {
    const topic = await topicWithDlq("doctor-pw");
    const db = await database("doctor_pw");
    const { code, lines, failures, report } = await doctor({
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      KAFKA_PASSWORD: "not-the-password",
    });
    expect(failures).toEqual([
      'FAIL kafka: credentials rejected for user "belly" (SCRAM-SHA-256) — fix: check KAFKA_PASSWORD, KAFKA_USERNAME and KAFKA_SASL_MECHANISM (Redpanda Cloud: SCRAM-SHA-256 or -512)',
    ]);
    expect(report.filter((line) => line.startsWith("skip kafka:"))).toHaveLength(6);
    expect(lines.join("\n")).not.toContain("not-the-password");
    expect(code).toBe(1);
  });

  test("no WRITE ACL on the topic: the producer's line says which ACL to add; READ still ok", async () => {
    const topic = await topicWithDlq("doctor-nowrite");
    await allow("User:belly", AclOperationTypes.READ, AclResourceTypes.TOPIC, topic);
    await untilEnforced("WRITE denied", async (session) => !(await topicAllows(topic, "WRITE")(session)));
    const db = await database("doctor_nowrite");
    const { code, failures, report } = await doctor(healthyEnv(topic, unique("doctor-group"), db.url));
    expect(failures).toEqual([
      `FAIL kafka: User:belly may not WRITE topic ${topic} (producer) — fix: add the ACL "ALLOW User:belly WRITE on topic ${topic}" (Redpanda Console → Security → ACLs, or rpk security acl create --allow-principal User:belly --operation write --topic ${topic})`,
    ]);
    expect(report).toContain(`ok   kafka: User:belly may READ topic ${topic} (consumer)`);
    expect(code).toBe(1);
  });

  test("no READ on the consumer group: ACLs on the topic, but the group's only grant is DESCRIBE", async () => {
    const topic = await topicWithDlq("doctor-nogroup");
    const group = unique("doctor-group");
    await allow("User:belly", AclOperationTypes.READ, AclResourceTypes.TOPIC, topic);
    await allow("User:belly", AclOperationTypes.WRITE, AclResourceTypes.TOPIC, topic);
    // With allow.everyone.if.no.acl.found, a group without ACLs is open to all, so an ACL for another group name
    // would leave this one open: the group gets an ACL of its own that grants belly DESCRIBE but not READ.
    await allow("User:belly", AclOperationTypes.DESCRIBE, AclResourceTypes.GROUP, group);
    await untilEnforced("group READ denied", async (session) => {
      const described = await session.describeGroup(group);
      return !authorizedOperations(described.authorizedOperations)?.has("READ");
    });
    const db = await database("doctor_nogroup");
    const { code, failures } = await doctor(healthyEnv(topic, group, db.url));
    expect(failures).toEqual([
      `FAIL kafka: User:belly may not READ consumer group ${group} (consumer; it needs READ on the topic AND the group) — fix: add the ACL "ALLOW User:belly READ on group ${group}" (Redpanda Console → Security → ACLs, or rpk security acl create --allow-principal User:belly --operation read --group ${group})`,
    ]);
    expect(code).toBe(1);
  });

  test("a group whose ACLs are all for another user: refused already at FindCoordinator, same FAIL line", async () => {
    const topic = await topicWithDlq("doctor-othergroup");
    const group = unique("doctor-group");
    await allow("User:admin", AclOperationTypes.READ, AclResourceTypes.GROUP, group);
    const db = await database("doctor_othergroup");
    // The ACL travels through the metadata log before the authorizer enforces it: rerun until it shows.
    let refused: DoctorRun | undefined;
    await waitFor("the group ACL to be enforced", async () => {
      const run = await doctor(healthyEnv(topic, group, db.url));
      if (run.failures.some((line) => line.includes(`may not READ consumer group ${group}`))) refused = run;
      return refused;
    });
    if (!refused) throw new Error("unreachable: waitFor returned");
    expect(refused.failures).toHaveLength(1);
    expect(refused.failures[0]).toContain(`fix: add the ACL "ALLOW User:belly READ on group ${group}"`);
    expect(refused.code).toBe(1);
  });

  test("bad Redis password, and a Redis user that may not run scripts", async () => {
    const user = unique("doctor-user");
    redisUsers.push(user);
    const redis = new RedisClient(stack.redisUrl);
    await redis.send("ACL", ["SETUSER", user, "on", ">right-password", "~*", "&*", "+@all", "-@scripting"]);
    redis.close();
    const topic = await topicWithDlq("doctor-redis");
    const db = await database("doctor_redis");
    const base = healthyEnv(topic, unique("doctor-group"), db.url);
    const url = (password: string) => `redis://${user}:${password}@127.0.0.1:${new URL(stack.redisUrl).port}`;

    const wrong = await doctor({ ...base, REDIS_URL: url("wrong-password") });
    expect(wrong.failures).toEqual([
      `FAIL redis: password rejected for user "${user}" — fix: check the user name and password in REDIS_URL`,
    ]);
    expect(wrong.lines.join("\n")).not.toContain("wrong-password");
    expect(wrong.code).toBe(1);

    const noScripts = await doctor({ ...base, REDIS_URL: url("right-password") });
    expect(noScripts.failures).toHaveLength(1);
    expect(noScripts.failures[0]).toStartWith(`FAIL redis: user "${user}" may not run Lua scripts`);
    expect(noScripts.failures[0]).toContain(`fix: allow them: ACL SETUSER ${user} +eval +evalsha +script`);
    expect(noScripts.code).toBe(1);
  });

  test("bad Upstash token: REDIS_TOKEN rejected", async () => {
    const upstash = await startUpstashBridge({ redisUrl: stack.redisUrl, token: "the-right-token", db: 5 });
    bridges.push(upstash);
    const topic = await topicWithDlq("doctor-token");
    const db = await database("doctor_token");
    const { code, failures, lines } = await doctor({
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      REDIS_URL: upstash.url,
      REDIS_TOKEN: "a-wrong-token",
    });
    expect(failures).toEqual([
      "FAIL upstash: REDIS_TOKEN rejected (HTTP 401: Unauthorized) — fix: copy the REST token (UPSTASH_REDIS_REST_TOKEN) of this database from the Upstash console into REDIS_TOKEN",
    ]);
    expect(lines.join("\n")).not.toContain("a-wrong-token");
    expect(code).toBe(1);
  });

  test("a fresh database without the migration: missing table, in Postgres and through Supabase", async () => {
    const topic = await topicWithDlq("doctor-notable");
    const db = await database("doctor_notable", false);
    const supabase = await postgrest(db.url);
    const { code, failures, report } = await doctor({
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      SUPABASE_URL: supabase.url,
      SUPABASE_ANON_KEY: ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    });
    expect(failures).toHaveLength(2);
    expect(failures[0]).toStartWith(
      `FAIL postgres: table public.price_history does not exist in "${new URL(db.url).pathname.slice(1)}" — fix: run \`bun run migrate\``,
    );
    expect(failures[1]).toStartWith(
      "FAIL supabase: table price_history not found through the REST API (PGRST205",
    );
    expect(report.filter((line) => line.startsWith("skip postgres:"))).toHaveLength(4);
    expect(code).toBe(1);
  });

  test("a dropped column: the FAIL line names it and gives the SQL to add it back", async () => {
    const topic = await topicWithDlq("doctor-nocolumn");
    const db = await database("doctor_nocolumn");
    await sqlOn(db.url, "alter table price_history drop column volume_24h");
    const supabase = await postgrest(db.url);
    const { code, failures } = await doctor({
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      SUPABASE_URL: supabase.url,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    });
    expect(failures).toEqual([
      "FAIL postgres: price_history differs from the migration: missing column volume_24h (numeric) — fix: alter table public.price_history add column volume_24h numeric",
      "FAIL supabase: price_history has no column volume_24h (42703 column price_history.volume_24h does not exist) — fix: alter table public.price_history add column volume_24h numeric; then notify pgrst, 'reload schema'",
    ]);
    expect(code).toBe(1);
  });

  test("anon granted INSERT: Postgres and Supabase both fail; with RLS off too, the probe still writes nothing", async () => {
    const topic = await topicWithDlq("doctor-anon");
    const db = await database("doctor_anon");
    await sqlOn(db.url, "grant insert on price_history to anon");
    const supabase = await postgrest(db.url);
    const env = {
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      SUPABASE_URL: supabase.url,
      SUPABASE_ANON_KEY: ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
    };
    const granted = await doctor(env);
    expect(granted.failures).toEqual([
      "FAIL postgres: anon holds INSERT on price_history: only row level security stops the public key from writing — fix: revoke insert, update, delete, truncate on public.price_history from anon, authenticated",
      "FAIL supabase: anon holds INSERT on price_history; only row level security stopped the probe row — fix: revoke insert, update, delete, truncate on public.price_history from anon, authenticated",
    ]);
    expect(granted.code).toBe(1);

    await sqlOn(db.url, "alter table price_history disable row level security");
    const open = await doctor(env);
    expect(open.failures).toHaveLength(3);
    expect(open.failures[0]).toStartWith("FAIL postgres: row level security is off for price_history");
    expect(open.failures[1]).toStartWith(
      "FAIL postgres: anon holds INSERT on price_history: anyone with the public key can write price history now",
    );
    expect(open.failures[2]).toStartWith("FAIL supabase: anon CAN write price_history: the probe row passed");
    const sql = new SQL({ url: db.url, max: 1 });
    const [{ rows }] = await sql`select count(*)::int as rows from price_history`;
    await sql.close();
    expect(rows).toBe(0);
  });

  test("bad CoinGecko key: key and plan do not match, with the pro-URL hint", async () => {
    const topic = await topicWithDlq("doctor-cg");
    const db = await database("doctor_cg");
    const { code, failures, lines } = await doctor({
      ...healthyEnv(topic, unique("doctor-group"), db.url),
      COINGECKO_API_KEY: "cg-wrong-key",
    });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toStartWith(
      "FAIL coingecko: key and plan do not match: CoinGecko refused the request (HTTP 401, plan demo): Invalid API Key",
    );
    expect(failures[0]).toContain("pro-api.coingecko.com");
    expect(lines.join("\n")).not.toContain("cg-wrong-key");
    expect(code).toBe(1);
  });

  test("an invalid environment exits 2 before checking anything", async () => {
    const { code, lines } = await doctor({ KAFKA_BROKERS: "not a broker list" });
    expect(code).toBe(2);
    expect(lines.join("\n")).toContain("config: KAFKA_BROKERS: expected host:port");
  });
});

test("a broker that accepts connections but never answers fails at the check's deadline; nothing hangs", async () => {
  const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  try {
    const config = loadConfig({ KAFKA_BROKERS: `127.0.0.1:${silent.port}` }).kafka;
    if (!config) throw new Error("no kafka config");
    const t0 = performance.now();
    const results = await runChecks([kafkaChecks(config)], { timeoutMs: 1_500 });
    expect(performance.now() - t0).toBeLessThan(6_000);
    expect(results.map((r) => r.status)).toEqual([
      "ok",
      "fail",
      "skip",
      "skip",
      "skip",
      "skip",
      "skip",
      "skip",
    ]);
    expect(results[1]?.message).toBe("connect: no answer within 1.5 s");
    expect(results[1]?.fix).toContain("KAFKA_SSL=true");
  } finally {
    silent.stop(true);
  }
});
