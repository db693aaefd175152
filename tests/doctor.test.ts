// Unit tests of `bun run doctor`: the runner, the report, the Kafka wire format, and every check group against
// fakes (no network). tests/doctor.integration.test.ts runs the same checks against the real local stack.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { coingeckoChecks } from "../lib/adapters/coingecko/doctor.ts";
import type { KafkaSession } from "../lib/adapters/kafka/acl-probe.ts";
import { aclFix, kafkaChecks } from "../lib/adapters/kafka/doctor.ts";
import { AclProbeError, classifyKafkaError, explainKafkaError } from "../lib/adapters/kafka/failures.ts";
import {
  authorizedOperations,
  decodeDescribeGroupsResponse,
  decodeMetadataResponse,
  encodeDescribeGroupsRequest,
  encodeMetadataRequest,
  OPERATIONS_NOT_REPORTED,
  operationBits,
} from "../lib/adapters/kafka/protocol.ts";
import { judgePublicWrites } from "../lib/adapters/postgres/doctor.ts";
import { classifyPostgresError, postgresFix } from "../lib/adapters/postgres/failures.ts";
import {
  compareSchema,
  EXPECTED_COLUMNS,
  EXPECTED_KEY,
  type LiveColumn,
} from "../lib/adapters/postgres/schema.ts";
import { type RedisCommands, redisChecks } from "../lib/adapters/redis/doctor.ts";
import { classifyRedisError } from "../lib/adapters/redis/failures.ts";
import { PROBE_ROW, supabaseChecks } from "../lib/adapters/supabase/doctor.ts";
import { classifySupabase, SUPABASE_HINTS } from "../lib/adapters/supabase/failures.ts";
import { keyRole } from "../lib/adapters/supabase/keys.ts";
import { upstashChecks } from "../lib/adapters/upstash/doctor.ts";
import { classifyUpstash, upstashAnswerOf } from "../lib/adapters/upstash/failures.ts";
import { type Check, type CheckGroup, type CheckResult, fail, ok, warn } from "../lib/checks/check.ts";
import type { TcpProbe } from "../lib/checks/tcp.ts";
import { type Config, loadConfig } from "../lib/config.ts";
import { maskedSecrets, runDoctor } from "../lib/doctor/doctor.ts";
import { exitCodeFor, formatResult, formatSummary } from "../lib/doctor/report.ts";
import { runChecks } from "../lib/doctor/run.ts";
import { startFakeCoinGecko } from "./support/fake-coingecko.ts";

const reachable = async (target: { host: string; port: number }): Promise<TcpProbe> => ({
  ok: true,
  address: `${target.host}:${target.port}`,
});

const byId = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r]));
const lines = (results: CheckResult[]) => results.map((r) => formatResult(r, []));

const check = (
  id: string,
  outcome: () => Promise<ReturnType<typeof ok>>,
  extra: Partial<Check> = {},
): Check => ({
  id,
  title: id,
  run: outcome,
  ...extra,
});

describe("runner", () => {
  test("prints in declaration order while groups run side by side", async () => {
    const started: string[] = [];
    const slow: CheckGroup = {
      subject: "slow",
      checks: [
        check("slow.a", async () => {
          started.push("slow.a");
          await Bun.sleep(60);
          return ok("a");
        }),
      ],
    };
    const fast: CheckGroup = {
      subject: "fast",
      checks: [
        check("fast.b", async () => {
          started.push("fast.b");
          return ok("b");
        }),
      ],
    };
    const printed: string[] = [];
    const t0 = performance.now();
    await runChecks([slow, fast], { onResult: (r) => printed.push(r.id) });
    expect(printed).toEqual(["slow.a", "fast.b"]);
    expect(started).toEqual(["slow.a", "fast.b"]);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  test("a check that never settles fails at its deadline with its fix, and its dependants are skipped", async () => {
    let closed = false;
    const group: CheckGroup = {
      subject: "kafka",
      checks: [
        check("x.hang", () => new Promise(() => {}), { title: "sign in", timeoutFix: "check KAFKA_SSL" }),
        check("x.after", async () => ok("never"), { title: "WRITE on topic t", needs: ["x.hang"] }),
        check("x.free", async () => ok("independent")),
      ],
      close: async () => {
        closed = true;
      },
    };
    const t0 = performance.now();
    const results = byId(await runChecks([group], { timeoutMs: 100 }));
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(results["x.hang"]).toMatchObject({ status: "fail", fix: "check KAFKA_SSL" });
    expect(results["x.hang"]?.message).toBe("sign in: no answer within 0.1 s");
    expect(results["x.after"]).toMatchObject({
      status: "skip",
      message: "WRITE on topic t (not checked: sign in failed)",
    });
    expect(results["x.free"]?.status).toBe("ok");
    expect(closed).toBe(true);
  });

  test("a throwing check becomes a FAIL line instead of crashing the run; warnings still proceed", async () => {
    const results = byId(
      await runChecks([
        {
          subject: "s",
          checks: [
            check("a", async () => {
              throw new Error("boom");
            }),
            check("b", async () => warn("meh", "look"), { needs: [] }),
            check("c", async () => ok("fine"), { needs: ["b"] }),
          ],
        },
      ]),
    );
    expect(results.a).toMatchObject({ status: "fail" });
    expect(results.a?.message).toContain("boom");
    expect(results.c?.status).toBe("ok");
  });
});

describe("report", () => {
  const result = (status: CheckResult["status"], message: string, fix?: string): CheckResult => ({
    id: "x",
    subject: "kafka",
    title: "x",
    elapsedMs: 1,
    status,
    message,
    fix,
  });

  test("one line per check: status, subject, message, and the fix for warn and FAIL only", () => {
    expect(formatResult(result("ok", "reachable (b:9092, TLS)"), [])).toBe(
      "ok   kafka: reachable (b:9092, TLS)",
    );
    expect(formatResult(result("fail", "credentials rejected", "check KAFKA_PASSWORD"), [])).toBe(
      "FAIL kafka: credentials rejected — fix: check KAFKA_PASSWORD",
    );
    expect(formatResult(result("warn", "topic missing", "create it"), [])).toBe(
      "warn kafka: topic missing — fix: create it",
    );
    expect(formatResult(result("skip", "not configured", "ignored"), [])).toBe("skip kafka: not configured");
  });

  test("never prints a secret, even one a message carried by mistake", () => {
    const line = formatResult(
      result("fail", "broker said: bad pass s3cret-pass\nat postgres://u:pw@h/db", "x"),
      ["s3cret-pass"],
    );
    expect(line).not.toContain("s3cret-pass");
    expect(line).not.toContain(":pw@");
    expect(line).not.toContain("\n");
  });

  test("summary and exit code: warnings and skips pass, any FAIL fails", () => {
    const passing = [result("ok", "a"), result("warn", "b", "c"), result("skip", "d")];
    expect(exitCodeFor(passing)).toBe(0);
    expect(formatSummary(passing)).toBe(
      "doctor: 1 ok, 1 warning, 0 failed, 1 skipped — passed, with warnings worth reading",
    );
    const failing = [...passing, result("fail", "e", "f")];
    expect(exitCodeFor(failing)).toBe(1);
    expect(formatSummary(failing)).toContain("1 failed");
  });

  test("a password equal to the user name it belongs to is not masked (local stacks), others are", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://belly:belly@127.0.0.1:15432/belly",
      KAFKA_BROKERS: "b:9092",
      KAFKA_USERNAME: "belly",
      KAFKA_PASSWORD: "belly-secret",
    });
    expect(maskedSecrets(config)).toEqual(["belly-secret"]);
  });

  test("runDoctor writes a header, one line per check and a summary, and returns the exit code", async () => {
    const out: string[] = [];
    const { code } = await runDoctor(loadConfig({}), {
      write: (line) => out.push(line),
      groups: [{ subject: "demo", checks: [check("d.a", async () => fail("broken", "fix it"))] }],
    });
    expect(code).toBe(1);
    expect(out).toEqual([
      "doctor: checking demo",
      "FAIL demo: broken — fix: fix it",
      "doctor: 0 ok, 0 warnings, 1 failed, 0 skipped — 1 problem to fix (see FAIL lines)",
    ]);
  });
});

/** Big-endian response bodies for the decoder tests, written field by field as the broker would. */
class Bytes {
  private parts: Buffer[] = [];
  i8(v: number) {
    const b = Buffer.alloc(1);
    b.writeInt8(v);
    this.parts.push(b);
    return this;
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  str(v: string | null) {
    if (v === null) return this.i16(-1);
    this.i16(Buffer.byteLength(v));
    this.parts.push(Buffer.from(v));
    return this;
  }
  done() {
    return Buffer.concat(this.parts);
  }
}

function metadataBody(version: 7 | 8, topicOps: number): Buffer {
  const b = new Bytes().i32(0).i32(1).i32(1).str("b1").i32(9092).str(null).str("cluster").i32(1);
  b.i32(2);
  for (const [name, error] of [
    ["t", 0],
    ["t.dlq", 3],
  ] as const) {
    b.i16(error).str(name).i8(0);
    b.i32(error === 0 ? 1 : 0);
    if (error === 0) {
      b.i16(0).i32(0).i32(1);
      if (version >= 7) b.i32(5);
      b.i32(1).i32(1).i32(1).i32(1).i32(0);
    }
    if (version >= 8) b.i32(topicOps);
  }
  if (version >= 8) b.i32(OPERATIONS_NOT_REPORTED);
  return b.done();
}

describe("kafka wire format", () => {
  test("operation bit fields follow the protocol's AclOperation codes", () => {
    expect(operationBits(["READ", "DESCRIBE"])).toBe((1 << 3) | (1 << 8));
    expect([...(authorizedOperations(3576) ?? [])].sort()).toEqual([
      "ALTER",
      "ALTER_CONFIGS",
      "CREATE",
      "DELETE",
      "DESCRIBE",
      "DESCRIBE_CONFIGS",
      "READ",
      "WRITE",
    ]);
    expect(authorizedOperations(OPERATIONS_NOT_REPORTED)).toBeNull();
  });

  test("Metadata v8 asks for authorized operations and never for auto-creation", () => {
    const body = encodeMetadataRequest(["ab"], 8);
    expect([...body]).toEqual([0, 0, 0, 1, 0, 2, 97, 98, 0, 1, 1]);
    expect([...encodeMetadataRequest(["ab"], 7)]).toEqual([0, 0, 0, 1, 0, 2, 97, 98, 0]);
  });

  test("Metadata v8 and v7 responses decode; v7 says 'not reported'", () => {
    const v8 = decodeMetadataResponse(metadataBody(8, operationBits(["READ"])), 8);
    expect(v8.brokers).toEqual([{ nodeId: 1, host: "b1", port: 9092, rack: null }]);
    expect(v8.topics.map((t) => [t.name, t.errorCode, t.partitions])).toEqual([
      ["t", 0, 1],
      ["t.dlq", 3, 0],
    ]);
    expect(authorizedOperations(v8.topics[0]?.authorizedOperations ?? 0)).toEqual(new Set(["READ"]));
    const v7 = decodeMetadataResponse(metadataBody(7, 0), 7);
    expect(v7.topics[0]?.authorizedOperations).toBe(OPERATIONS_NOT_REPORTED);
  });

  test("a truncated response is a named error, not a crash", () => {
    expect(() => decodeMetadataResponse(metadataBody(8, 0).subarray(0, 20), 8)).toThrow(/ends early/);
  });

  test("DescribeGroups v3 round trip", () => {
    expect([...encodeDescribeGroupsRequest(["g"], 3)]).toEqual([0, 0, 0, 1, 0, 1, 103, 1]);
    const body = new Bytes()
      .i32(0)
      .i32(1)
      .i16(0)
      .str("g")
      .str("Stable")
      .str("consumer")
      .str("range")
      .i32(1)
      .str("m-1")
      .str("client")
      .str("/10.0.0.1")
      .i32(2)
      .i16(7)
      .i32(0)
      .i32(operationBits(["DESCRIBE"]))
      .done();
    const { groups } = decodeDescribeGroupsResponse(body, 3);
    expect(groups).toEqual([
      { errorCode: 0, groupId: "g", state: "Stable", members: 1, authorizedOperations: 1 << 8 },
    ]);
  });
});

const kafkaConfig = (env: Record<string, string> = {}) =>
  loadConfig({
    KAFKA_BROKERS: "b1:9092",
    KAFKA_USERNAME: "belly",
    KAFKA_PASSWORD: "pw-123456",
    KAFKA_TOPIC: "t",
    KAFKA_CONSUMER_GROUP: "g",
    KAFKA_SSL: "false",
    ...env,
  }).kafka as NonNullable<Config["kafka"]>;

function fakeSession(options: {
  topicOps?: Record<string, number>;
  topicErrors?: Record<string, number>;
  group?: Partial<Awaited<ReturnType<KafkaSession["describeGroup"]>>>;
  connectError?: Error;
  createError?: Error;
}): KafkaSession {
  const all = operationBits(["READ", "WRITE", "DESCRIBE"]);
  return {
    connect: async () => {
      if (options.connectError) throw options.connectError;
    },
    metadata: async (topics) => ({
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: "b1", port: 9092, rack: null }],
      clusterId: "c",
      controllerId: 1,
      clusterAuthorizedOperations: OPERATIONS_NOT_REPORTED,
      topics: topics.map((name) => ({
        name,
        errorCode: options.topicErrors?.[name] ?? 0,
        isInternal: false,
        partitions: 3,
        authorizedOperations: options.topicOps?.[name] ?? all,
      })),
    }),
    describeGroup: async (group) => ({
      errorCode: 0,
      groupId: group,
      state: "Stable",
      members: 2,
      authorizedOperations: operationBits(["READ", "DESCRIBE"]),
      ...options.group,
    }),
    validateCreateTopic: async () => {
      if (options.createError) throw options.createError;
    },
    close: async () => {},
  };
}

const runKafka = async (session: KafkaSession, config = kafkaConfig()) =>
  byId(await runChecks([kafkaChecks(config, { probe: reachable, openSession: () => session })]));

describe("kafka checks", () => {
  test("healthy: eight ok lines naming the principal, the topic, the group and the DLQ", async () => {
    const results = await runKafka(fakeSession({}));
    expect(Object.values(results).map((r) => r.status)).toEqual(Array(8).fill("ok"));
    expect(results["kafka.sign-in"]?.message).toBe(
      'signed in as "belly" (SCRAM-SHA-256); the cluster has 1 broker',
    );
    expect(results["kafka.topic-write"]?.message).toBe("User:belly may WRITE topic t (producer)");
    expect(results["kafka.group-read"]?.message).toContain(
      "may READ consumer group g (consumer; Stable, 2 members)",
    );
  });

  test("no WRITE on the topic: a FAIL that names the exact ACL to add", async () => {
    const results = await runKafka(fakeSession({ topicOps: { t: operationBits(["READ", "DESCRIBE"]) } }));
    expect(results["kafka.topic-write"]).toMatchObject({
      status: "fail",
      message: "User:belly may not WRITE topic t (producer)",
      fix: aclFix("User:belly", "WRITE", "topic", "t"),
    });
    expect(results["kafka.topic-write"]?.fix).toContain(
      "rpk security acl create --allow-principal User:belly --operation write --topic t",
    );
    expect(results["kafka.topic-read"]?.status).toBe("ok");
  });

  test("no READ on the group, whether refused at FindCoordinator or by its authorized operations", async () => {
    for (const group of [
      { errorCode: 30, authorizedOperations: 0 },
      { authorizedOperations: operationBits(["DESCRIBE"]) },
    ]) {
      const results = await runKafka(fakeSession({ group }));
      expect(results["kafka.group-read"]?.status).toBe("fail");
      expect(results["kafka.group-read"]?.message).toContain("needs READ on the topic AND the group");
      expect(results["kafka.group-read"]?.fix).toContain('"ALLOW User:belly READ on group g"');
    }
  });

  test("a topic the user may not even describe fails both the topic line and the ACL lines", async () => {
    const results = await runKafka(fakeSession({ topicErrors: { t: 29 } }));
    expect(results["kafka.topic"]?.status).toBe("fail");
    expect(results["kafka.topic-write"]?.fix).toContain("WRITE on topic t");
    expect(results["kafka.topic-read"]?.fix).toContain("READ on topic t");
  });

  test("a missing DLQ is a warning when the app may create it at start-up, a failure when it may not", async () => {
    const creatable = await runKafka(fakeSession({ topicErrors: { "t.dlq": 3 } }));
    expect(creatable["kafka.dlq"]?.status).toBe("warn");
    expect(creatable["kafka.dlq"]?.message).toContain("create it at start-up");
    const refused = Object.assign(new Error("Topic authorization failed"), {
      type: "TOPIC_AUTHORIZATION_FAILED",
    });
    const locked = await runKafka(fakeSession({ topicErrors: { "t.dlq": 3 }, createError: refused }));
    expect(locked["kafka.dlq"]).toMatchObject({ status: "fail" });
    expect(locked["kafka.dlq"]?.message).toContain("User:belly may not create it");
    expect(locked["kafka.dlq"]?.fix).toContain("create t.dlq");
  });

  test("a broker that does not report authorized operations gives a warning, never a guess", async () => {
    const results = await runKafka(
      fakeSession({
        topicOps: { t: OPERATIONS_NOT_REPORTED },
        group: { authorizedOperations: OPERATIONS_NOT_REPORTED },
      }),
    );
    expect(results["kafka.topic-write"]?.status).toBe("warn");
    expect(results["kafka.group-read"]?.status).toBe("warn");
    expect(results["kafka.topic-write"]?.message).toContain("cannot verify");
  });

  test("rejected credentials: one FAIL naming the user, never the password; the rest skipped", async () => {
    const sasl = Object.assign(new Error("SASL SCRAM SHA256 authentication failed: invalid credentials"), {
      name: "KafkaJSSASLAuthenticationError",
    });
    const results = await runKafka(fakeSession({ connectError: sasl }));
    expect(results["kafka.sign-in"]).toMatchObject({
      status: "fail",
      message: 'credentials rejected for user "belly" (SCRAM-SHA-256)',
    });
    expect(results["kafka.sign-in"]?.fix).toContain("KAFKA_PASSWORD");
    expect(JSON.stringify(results)).not.toContain("pw-123456");
    expect(results["kafka.topic-write"]?.status).toBe("skip");
  });

  test("kafkajs internals gone: sign-in still checked, and the ACL lines say the ACL check is unavailable", async () => {
    const gone = new AclProbeError("ACL check unavailable: kafkajs 9.9.9 internals changed: no factory");
    const refuse = async (): Promise<never> => {
      throw gone;
    };
    const results = await runKafka({ ...fakeSession({}), metadata: refuse, describeGroup: refuse });
    expect(results["kafka.sign-in"]?.status).toBe("warn");
    expect(results["kafka.sign-in"]?.message).toContain(
      "ACL check unavailable: kafkajs 9.9.9 internals changed",
    );
    expect(results["kafka.topic"]?.status).toBe("skip");
    for (const id of ["kafka.topic-write", "kafka.topic-read", "kafka.group-read", "kafka.dlq-write"])
      expect(results[id]).toMatchObject({
        status: "warn",
        message: expect.stringContaining("ACL check unavailable"),
      });
  });

  test("an unreachable broker fails the first line with what to fix, and skips the rest", async () => {
    const config = kafkaConfig({ KAFKA_SSL: "true" });
    const results = byId(
      await runChecks([
        kafkaChecks(config, {
          probe: async () => ({
            ok: false,
            address: "b1:9092",
            kind: "tls-untrusted",
            detail: "self-signed certificate",
          }),
          openSession: () => fakeSession({}),
        }),
      ]),
    );
    expect(results["kafka.reach"]?.status).toBe("fail");
    expect(results["kafka.reach"]?.fix).toContain("KAFKA_CA_FILE");
    expect(Object.values(results).filter((r) => r.status === "skip")).toHaveLength(7);
  });
});

describe("failures: one classification for the runtime error and the doctor's fix", () => {
  const error = (message: string, extra: object = {}) => Object.assign(new Error(message), extra);

  test("Kafka: unreachable and slow brokers are retriable; credentials, ACLs, TLS and a missing topic are not", () => {
    const config = kafkaConfig();
    const cases: [unknown, string, boolean][] = [
      [error("connect ECONNREFUSED 10.0.0.1:9092", { name: "KafkaJSConnectionError" }), "unreachable", true],
      [
        error("Request Metadata(key: 3, version: 6) timed out", { name: "KafkaJSRequestTimeoutError" }),
        "timeout",
        true,
      ],
      [
        error("SASL SCRAM SHA256 authentication failed", { name: "KafkaJSSASLAuthenticationError" }),
        "credentials",
        false,
      ],
      [error("not authorized", { type: "TOPIC_AUTHORIZATION_FAILED" }), "topic-acl", false],
      [error("self-signed certificate in certificate chain"), "tls", false],
      [
        { originalError: error("no such topic", { type: "UNKNOWN_TOPIC_OR_PARTITION" }) },
        "missing-topic",
        false,
      ],
    ];
    for (const [cause, kind, retriable] of cases) {
      expect(classifyKafkaError(cause, config)).toMatchObject({ kind, retriable });
      expect(explainKafkaError(cause, config, "publish")).toMatchObject({ retriable });
    }
  });

  test("Kafka: a closed connection to one broker of a cluster names that broker, not every bootstrap address", () => {
    const config = { ...kafkaConfig(), brokers: ["10.0.0.1:9092", "10.0.0.2:9092"] };
    const closed = error("Closed connection", {
      name: "KafkaJSConnectionClosedError",
      broker: "10.0.0.2:9092",
    });
    expect(explainKafkaError(closed, config, "consume").message).toBe(
      "consume: cannot reach Kafka broker 10.0.0.2:9092",
    );
    const advertised = error("Connection error: read ECONNRESET", {
      name: "KafkaJSConnectionError",
      broker: "b-3.internal:9092",
    });
    expect(explainKafkaError({ originalError: advertised }, config, "consume").message).toBe(
      "consume: cannot reach Kafka broker b-3.internal:9092 (an address the cluster advertises; bootstrap 10.0.0.1:9092,10.0.0.2:9092)",
    );
    expect(explainKafkaError(error("connect ECONNREFUSED"), config, "connect").message).toBe(
      "connect: cannot reach Kafka at 10.0.0.1:9092,10.0.0.2:9092",
    );
  });

  test("Redis, Upstash, Postgres and Supabase: outages are retriable, settings are not", () => {
    expect(classifyRedisError(error("connect ECONNREFUSED 127.0.0.1:6379"))).toMatchObject({
      retriable: true,
    });
    expect(classifyRedisError(error("WRONGPASS invalid username-password pair"))).toEqual({
      kind: "password",
      retriable: false,
      fix: "check the user name and password in REDIS_URL",
    });
    expect(classifyUpstash({})).toMatchObject({ kind: "unreachable", retriable: true });
    expect(classifyUpstash({ status: 401, error: "Unauthorized", json: true })).toMatchObject({
      kind: "token",
      retriable: false,
    });
    expect(classifyPostgresError(error("connect ECONNREFUSED"))).toMatchObject({ retriable: true });
    expect(
      classifyPostgresError(error('relation "price_history" does not exist', { errno: "42P01" })),
    ).toEqual({
      kind: "missing-table",
      retriable: false,
      fix: postgresFix("missing-table"),
    });
    expect(classifySupabase({ status: 0 }, true, "K")).toMatchObject({
      retriable: true,
      fix: SUPABASE_HINTS.url,
    });
    expect(
      classifySupabase({ status: 0, message: "TypeError: getaddrinfo ENOTFOUND x.invalid" }, true, "K"),
    ).toMatchObject({ kind: "unknownHost", retriable: false, fix: SUPABASE_HINTS.unknownHost });
    expect(
      classifySupabase({ status: 0, message: "TypeError: getaddrinfo EAI_AGAIN x.supabase.co" }, true, "K"),
    ).toMatchObject({ kind: "unreachable", retriable: true });
    expect(classifySupabase({ status: 401, message: "Invalid API key" }, false, "K")).toMatchObject({
      retriable: false,
      fix: "check K",
    });
  });
});

function fakeRedis(answers: Record<string, unknown>): RedisCommands {
  return {
    async send(command) {
      const answer = answers[command];
      if (answer instanceof Error) throw answer;
      return answer;
    },
    close() {},
  };
}

describe("redis checks", () => {
  const run = async (answers: Record<string, unknown>) =>
    byId(
      await runChecks([
        redisChecks("redis://app:pw-123456@cache:6379", {
          probe: reachable,
          connect: () => fakeRedis(answers),
        }),
      ]),
    );

  test("healthy: PING and the three script commands", async () => {
    const results = await run({ PING: "PONG", EVAL: 1, SCRIPT: "sha", EVALSHA: 1 });
    expect(Object.values(results).map((r) => r.status)).toEqual(["ok", "ok", "ok"]);
  });

  test("a wrong password names the user; scripts are skipped", async () => {
    const results = await run({
      PING: new Error("WRONGPASS invalid username-password pair or user is disabled."),
    });
    expect(results["redis.auth"]).toMatchObject({
      status: "fail",
      message: 'password rejected for user "app"',
    });
    expect(results["redis.scripts"]?.status).toBe("skip");
  });

  test("scripts refused by an ACL say which permission to add", async () => {
    const results = await run({
      PING: "PONG",
      EVAL: new Error("NOPERM this user has no permissions to run the 'eval' command"),
    });
    expect(results["redis.scripts"]?.status).toBe("fail");
    expect(results["redis.scripts"]?.fix).toContain("ACL SETUSER app +eval +evalsha +script");
  });
});

function fakeFetch(route: (url: string, init: RequestInit) => { status: number; body: unknown }) {
  const calls: { url: string; init: RequestInit }[] = [];
  const impl = async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const { status, body } = route(url, init);
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
  };
  return { impl, calls };
}

describe("upstash checks", () => {
  test("healthy: PING with the Bearer token, then EVAL", async () => {
    const { impl, calls } = fakeFetch((_, init) =>
      String(init.body).includes("EVAL")
        ? { status: 200, body: { result: 1 } }
        : { status: 200, body: { result: "PONG" } },
    );
    const results = await runChecks([upstashChecks("https://x.upstash.io", "tok-123456", impl)]);
    expect(results.map((r) => r.status)).toEqual(["ok", "ok", "ok"]);
    const [first] = calls;
    expect((first?.init.headers as Record<string, string> | undefined)?.authorization).toBe(
      "Bearer tok-123456",
    );
    expect(first?.init.body).toBe('["PING"]');
  });

  test("401 says REDIS_TOKEN rejected", async () => {
    const { impl } = fakeFetch(() => ({ status: 401, body: { error: "Unauthorized" } }));
    const results = byId(await runChecks([upstashChecks("https://x.upstash.io", "tok-123456", impl)]));
    expect(results["upstash.reach"]?.status).toBe("ok");
    expect(results["upstash.token"]).toMatchObject({
      status: "fail",
      message: "REDIS_TOKEN rejected (HTTP 401: Unauthorized)",
    });
    expect(results["upstash.scripts"]?.status).toBe("skip");
  });

  test("a host that does not exist is a setting to fix, naming REDIS_URL; a resolver failing for now is an outage", async () => {
    // What Bun's fetch throws, as @upstash/redis passes it on.
    const dns = (code: string) =>
      Object.assign(new TypeError(`getaddrinfo ${code} no-such-host.invalid`), { code });
    expect(classifyUpstash(upstashAnswerOf(dns("ENOTFOUND")))).toEqual({
      kind: "unknown-host",
      retriable: false,
      fix: expect.stringMatching(/^check REDIS_URL: .*UPSTASH_REDIS_REST_URL/),
    });
    const wrapped = new Error("fetch failed", { cause: dns("ENOTFOUND") });
    expect(classifyUpstash(upstashAnswerOf(wrapped))?.kind).toBe("unknown-host");
    expect(classifyUpstash(upstashAnswerOf(dns("EAI_AGAIN")))).toMatchObject({
      kind: "unreachable",
      retriable: true,
    });
    const impl = async (): Promise<Response> => {
      throw dns("ENOTFOUND");
    };
    const results = byId(
      await runChecks([upstashChecks("https://no-such-host.invalid", "tok-123456", impl)]),
    );
    expect(results["upstash.reach"]).toMatchObject({
      status: "fail",
      fix: expect.stringContaining("UPSTASH_REDIS_REST_URL"),
    });
  });

  test("a read-only token cannot EVAL", async () => {
    const { impl } = fakeFetch((_, init) =>
      String(init.body).includes("EVAL")
        ? { status: 400, body: { error: "NOPERM this user has no permissions to run the 'eval' command" } }
        : { status: 200, body: { result: "PONG" } },
    );
    const results = byId(await runChecks([upstashChecks("https://x.upstash.io", "tok-123456", impl)]));
    expect(results["upstash.scripts"]?.status).toBe("fail");
    expect(results["upstash.scripts"]?.fix).toContain("not the read-only one");
  });
});

describe("price_history schema", () => {
  const migration = readFileSync(
    new URL("../supabase/migrations/20261126000000_price_history.sql", import.meta.url),
    "utf8",
  );

  test("the expected columns are the migration's, in order, with its types and key", () => {
    const body =
      /create table if not exists public\.price_history \(([\s\S]*?)\n\);/.exec(migration)?.[1] ?? "";
    const columns = body
      .split("\n")
      .map((line) => /^\s+(\w+)\s+(text|numeric|timestamptz)\b(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map(([, name, type, rest]) => ({
        name,
        type: type === "timestamptz" ? "timestamp with time zone" : type,
        nullable: !/not null/.test(rest ?? ""),
      }));
    expect(columns).toEqual([...EXPECTED_COLUMNS]);
    expect(body).toContain(`primary key (${EXPECTED_KEY.join(", ")})`);
  });

  const healthy: LiveColumn[] = EXPECTED_COLUMNS.map((c) => ({
    name: c.name,
    type: c.type,
    notNull: !c.nullable,
    hasDefault: c.name === "inserted_at" || c.name === "source",
  }));

  test("no problems for the migration's table", () => {
    expect(compareSchema(healthy, [[...EXPECTED_KEY]])).toEqual([]);
  });

  test("a missing column, a wrong type, a NOT NULL metric and a missing key each come with their SQL", () => {
    const live = healthy
      .filter((c) => c.name !== "volume_24h")
      .map((c) =>
        c.name === "price" ? { ...c, type: "text" } : c.name === "market_cap" ? { ...c, notNull: true } : c,
      );
    const problems = compareSchema(live, [["asset", "currency"]]);
    expect(problems.map((p) => p.problem)).toEqual([
      "column price is text, expected numeric",
      "column market_cap is NOT NULL, but CoinGecko sometimes has no value for it",
      "missing column volume_24h (numeric)",
      'no primary key on (asset, currency, source_updated_at), which the consumer\'s "on conflict" needs',
    ]);
    expect(problems[2]?.sql).toBe("alter table public.price_history add column volume_24h numeric");
  });

  test("public roles: any write privilege fails, and the message says how exposed the table is", () => {
    const none = { role: "anon", insert: false, update: false, delete: false, truncate: false };
    expect(judgePublicWrites([none], true, [])).toBeNull();
    const insert = { ...none, insert: true };
    expect(judgePublicWrites([insert], true, [])).toContain("only row level security stops");
    expect(judgePublicWrites([insert], false, [])).toContain("can write price history now");
    expect(judgePublicWrites([insert], true, [{ name: "p", roles: "{anon}", cmd: "INSERT" }])).toContain(
      "now",
    );
    expect(judgePublicWrites([{ ...none, truncate: true }], true, [])).toContain("TRUNCATE ignores");
  });
});

describe("supabase checks", () => {
  const jwt = (role: string) =>
    `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ role })).toString("base64url")}.sig`;

  test("keyRole reads legacy JWT keys and new sb_ keys", () => {
    expect(keyRole(jwt("anon"))).toBe("anon");
    expect(keyRole(jwt("service_role"))).toBe("service_role");
    expect(keyRole("sb_publishable_x")).toBe("anon");
    expect(keyRole("sb_secret_x")).toBe("service_role");
    expect(keyRole("opaque")).toBeNull();
  });

  const settings = {
    url: "https://ref.supabase.co",
    anonKey: jwt("anon"),
    serviceRoleKey: jwt("service_role"),
  };
  const supabase = (
    route: Parameters<typeof fakeFetch>[0],
    over: { anonKey?: string | null; serviceRoleKey?: string | null } = {},
  ) => {
    const fake = fakeFetch(route);
    return {
      fake,
      run: async () => byId(await runChecks([supabaseChecks({ ...settings, ...over }, fake.impl)])),
    };
  };
  const healthyRoute =
    (insert: { status: number; body: unknown }) =>
    (url: string, init: RequestInit): { status: number; body: unknown } => {
      if (init.method === "POST") return insert;
      if (url.endsWith("/rest/v1/")) return { status: 200, body: { swagger: "2.0" } };
      return { status: 200, body: [] };
    };
  const denied = {
    status: 401,
    body: { code: "42501", message: "permission denied for table price_history" },
  };

  test("healthy: the anon probe is refused by privileges; nothing but a probe row was sent", async () => {
    const { fake, run } = supabase(healthyRoute(denied));
    const results = await run();
    expect(Object.values(results).map((r) => r.status)).toEqual(["ok", "ok", "ok", "ok"]);
    const post = fake.calls.find((c) => c.init.method === "POST");
    const headers = (post?.init.headers ?? {}) as Record<string, string>;
    expect(JSON.parse(String(post?.init.body))).toEqual(PROBE_ROW);
    expect(headers.prefer).toContain("tx=rollback");
    expect(headers.apikey).toBe(settings.anonKey);
  });

  test("an INSERT grant that only RLS stops, and a table anyone can write, both fail", async () => {
    const rls = {
      status: 401,
      body: {
        code: "42501",
        message: 'new row violates row-level security policy for table "price_history"',
      },
    };
    expect((await supabase(healthyRoute(rls)).run())["supabase.anon-write"]).toMatchObject({
      status: "fail",
    });
    const open = { status: 400, body: { code: "23502", message: 'null value in column "asset"' } };
    const results = await supabase(healthyRoute(open)).run();
    expect(results["supabase.anon-write"]?.message).toContain("anon CAN write price_history");
    expect(results["supabase.anon-write"]?.fix).toContain("revoke insert");
  });

  test("missing table and missing column", async () => {
    const missingTable = await supabase((url) =>
      url.includes("price_history")
        ? {
            status: 404,
            body: {
              code: "PGRST205",
              message: "Could not find the table 'public.price_history' in the schema cache",
            },
          }
        : { status: 200, body: {} },
    ).run();
    expect(missingTable["supabase.keys"]?.status).toBe("ok");
    expect(missingTable["supabase.table"]?.status).toBe("fail");
    expect(missingTable["supabase.table"]?.fix).toContain("reload schema");
    const missingColumn = await supabase((url, init) =>
      init.method === "POST"
        ? denied
        : url.includes("select=asset,currency")
          ? {
              status: 400,
              body: { code: "42703", message: "column price_history.volume_24h does not exist" },
            }
          : { status: 200, body: [] },
    ).run();
    expect(missingTable["supabase.anon-write"]?.message).toContain("not checked: the table is missing");
    // A missing column must not hide a table the public key can write to: the probe still runs.
    expect(missingColumn["supabase.anon-write"]?.status).toBe("ok");
    expect(missingColumn["supabase.table"]?.message).toStartWith("price_history has no column volume_24h");
    expect(missingColumn["supabase.table"]?.fix).toContain("add column volume_24h numeric");
  });

  test("keys: a service_role key in SUPABASE_ANON_KEY, and a rejected key", async () => {
    const swapped = await supabase(healthyRoute(denied), { anonKey: jwt("service_role") }).run();
    expect(swapped["supabase.keys"]?.message).toContain("SUPABASE_ANON_KEY holds a service_role key");
    const rejected = await supabase((url) =>
      url.includes("price_history")
        ? { status: 401, body: { message: "Invalid API key" } }
        : { status: 200, body: {} },
    ).run();
    expect(rejected["supabase.keys"]?.message).toStartWith("SUPABASE_SERVICE_ROLE_KEY rejected (HTTP 401");
  });

  test("column types are compared when the API publishes its OpenAPI definitions", async () => {
    const properties = Object.fromEntries(EXPECTED_COLUMNS.map((c) => [c.name, { format: c.type }]));
    const spec = {
      definitions: { price_history: { properties: { ...properties, price: { format: "text" } } } },
    };
    const results = await supabase((url, init) =>
      init.method === "POST"
        ? denied
        : url.endsWith("/rest/v1/")
          ? { status: 200, body: spec }
          : { status: 200, body: [] },
    ).run();
    expect(results["supabase.table"]).toMatchObject({
      status: "fail",
      message: "price_history column types differ: price is text, expected numeric",
      fix: "alter table public.price_history alter column price type numeric using price::numeric",
    });
  });

  test("the anon probe is skipped without an anon key", async () => {
    const results = await supabase(healthyRoute(denied), { anonKey: null }).run();
    expect(results["supabase.anon-write"]?.status).toBe("skip");
  });
});

describe("coingecko checks", () => {
  const settings = (baseUrl: string, over: Record<string, unknown> = {}) => ({
    plan: "demo" as const,
    apiKey: "demo-key",
    baseUrl,
    timeoutMs: 2_000,
    assets: ["beldex"],
    currencies: ["usd"],
    fetchIntervalMs: 60_000,
    ...over,
  });

  test("healthy, then a wrong key, then a rate limit (a warning), then an unknown id (a warning)", async () => {
    const fake = await startFakeCoinGecko({ requireKey: { plan: "demo", key: "demo-key" } });
    try {
      const good = byId(await runChecks([coingeckoChecks(settings(fake.url))]));
      expect(good["coingecko.price"]?.message).toBe(
        "the demo key works: 1 pair priced, e.g. beldex/usd = 0.0712",
      );
      expect(fake.requests.every((r) => r.headers["x-cg-demo-api-key"] === "demo-key")).toBe(true);

      const bad = byId(await runChecks([coingeckoChecks(settings(fake.url, { apiKey: "wrong" }))]));
      expect(bad["coingecko.reach"]?.status).toBe("ok");
      expect(bad["coingecko.price"]?.status).toBe("fail");
      expect(bad["coingecko.price"]?.message).toContain("key and plan do not match");
      expect(bad["coingecko.price"]?.fix).toContain("pro-api.coingecko.com");
      expect(lines(Object.values(bad)).join("\n")).not.toContain("wrong");

      fake.fault("429", { retryAfterSeconds: 30 });
      const limited = byId(await runChecks([coingeckoChecks(settings(fake.url))]));
      expect(limited["coingecko.price"]?.status).toBe("warn");
      expect(limited["coingecko.price"]?.fix).toContain("FETCH_INTERVAL (now 60 s)");

      const unknown = byId(
        await runChecks([coingeckoChecks(settings(fake.url, { assets: ["beldex", "nope"] }))]),
      );
      expect(unknown["coingecko.price"]?.status).toBe("warn");
      expect(unknown["coingecko.price"]?.message).toContain("no price for nope/usd");
    } finally {
      await fake.stop();
    }
  });

  test("an unreachable host fails the reach line; the price line is skipped", async () => {
    const results = byId(await runChecks([coingeckoChecks(settings("http://127.0.0.1:1/api/v3"))]));
    expect(results["coingecko.reach"]?.status).toBe("fail");
    expect(results["coingecko.price"]?.status).toBe("skip");
  });
});
