import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Repository root, found from this file so that the stack works from any working directory. */
export const REPO_ROOT = resolve(import.meta.dir, "../..");

/** Loopback only: the stack must never be reachable from another machine. */
export const HOST = "127.0.0.1";

/** The stack's ports with no offset: away from the defaults so that a developer's own services do not clash. */
export const BASE_PORTS = {
  kafkaPlaintext: 19092,
  kafkaSaslSsl: 19093,
  kafkaController: 19094,
  redis: 16379,
  postgres: 15432,
} as const;

/** The ports of one stack, by service. */
export type StackPorts = { readonly [name in keyof typeof BASE_PORTS]: number };

/**
 * {@link BASE_PORTS} shifted by `BELLY_STACK_PORT_OFFSET` (default 0), so that a second stack (another state
 * dir, another Kafka release) runs beside the first without answering on its ports.
 * Throws when the offset is not an integer or would put a port outside 1024–65535.
 */
export function stackPorts(env: Record<string, string | undefined> = process.env): StackPorts {
  const raw = env.BELLY_STACK_PORT_OFFSET?.trim() || "0";
  const offset = /^-?\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  const shifted = Object.fromEntries(
    Object.entries(BASE_PORTS).map(([name, port]) => [name, port + offset]),
  ) as unknown as StackPorts;
  // NaN fails every comparison, so a malformed offset lands here too.
  if (!Object.values(shifted).every((port) => port >= 1024 && port <= 65_535)) {
    throw new Error(
      `BELLY_STACK_PORT_OFFSET=${JSON.stringify(raw)} must be an integer that keeps every stack port in 1024–65535 (${Object.values(BASE_PORTS).join(", ")} plus the offset)`,
    );
  }
  return shifted;
}

/** The ports this process's stack uses: {@link stackPorts} of the environment it started with. */
export const PORTS: StackPorts = stackPorts();

/** How a Kafka release's broker logs: Kafka 3 through log4j 1 (reload4j), Kafka 4 through log4j 2. */
export type Log4jGeneration = 1 | 2;

/** What the stack needs to know about one Apache Kafka release beside its version. */
export interface KafkaRelease {
  version: string;
  log4j: Log4jGeneration;
  /**
   * The slf4j binding added to the broker's classpath, as group:artifact:version. Kafka's poms declare
   * slf4j-api 1.7.36 but no binding (the release tarball brings its own), and without one the broker logs nothing.
   */
  slf4jBinding: string;
}

/**
 * Releases the stack can run; the first is the default. Each binding matches the slf4j-api and log4j its
 * release resolves to: 3.9 has slf4j 1.7 over reload4j, 4.1 has slf4j 1.7 and log4j-core 2.25.3, so the
 * log4j 2 bridge for slf4j 1.x (log4j-slf4j-impl, not the slf4j 2 one) at log4j-core's version.
 */
export const KAFKA_RELEASES: readonly KafkaRelease[] = [
  { version: "4.1.2", log4j: 2, slf4jBinding: "org.apache.logging.log4j:log4j-slf4j-impl:2.25.3" },
  { version: "3.9.1", log4j: 1, slf4jBinding: "org.slf4j:slf4j-reload4j:1.7.36" },
];

/**
 * The release named by `BELLY_KAFKA_VERSION`, default the newest 4.1 patch. kafkajs 2.2.4 talks to both
 * lines: it asks each broker which protocol versions it serves and picks the highest it knows, and Kafka 4
 * only dropped versions older than those.
 * Throws for a version that is not in {@link KAFKA_RELEASES}.
 */
export function kafkaRelease(env: Record<string, string | undefined> = process.env): KafkaRelease {
  const wanted = env.BELLY_KAFKA_VERSION?.trim() || (KAFKA_RELEASES[0] as KafkaRelease).version;
  const release = KAFKA_RELEASES.find((r) => r.version === wanted);
  if (!release) {
    throw new Error(
      `BELLY_KAFKA_VERSION=${wanted} is not a release the stack knows; use one of ${KAFKA_RELEASES.map((r) => r.version).join(", ")}`,
    );
  }
  return release;
}

/** The release this process's stack runs: {@link kafkaRelease} of the environment it started with. */
export const KAFKA: KafkaRelease = kafkaRelease();
/** Apache Kafka version run by the stack, e.g. "4.1.2". */
export const KAFKA_VERSION = KAFKA.version;

/** Kafka SASL users; each exists for SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN. */
export const KAFKA_USERS = {
  app: { username: "belly", password: "belly-secret" },
  admin: { username: "admin", password: "admin-secret" },
} as const;

/** Postgres role, password and database created for the app. */
export const POSTGRES_APP = { user: "belly", password: "belly", database: "belly" } as const;

/** Connection settings of a running stack, as written to `.stack/env.json`. */
export interface StackInfo {
  kafka: {
    /** PLAINTEXT bootstrap address, no auth. */
    plaintext: string;
    /** SASL_SSL bootstrap address (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN). */
    saslSsl: string;
    /** PEM of the CA that signed the broker certificate. */
    caFile: string;
    /** Apache Kafka release the stack runs, e.g. "4.1.2". */
    version: string;
    username: "belly";
    password: "belly-secret";
    adminUsername: "admin";
    adminPassword: "admin-secret";
  };
  redisUrl: string;
  databaseUrl: string;
  stateDir: string;
}

/**
 * Where the stack keeps data, logs and pid files.
 * Default `<repo>/.stack`; `BELLY_STACK_DIR` overrides it (e.g. to run a second stack elsewhere).
 */
export function stateDir(): string {
  return resolve(process.env.BELLY_STACK_DIR ?? join(REPO_ROOT, ".stack"));
}

/**
 * Jar cache shared by every checkout, one folder per release:
 * `${XDG_CACHE_HOME:-~/.cache}/belly-stream/kafka-<version>`. Default: the stack's release.
 */
export function kafkaCacheDir(version: string = KAFKA_VERSION): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "belly-stream", `kafka-${version}`);
}

/** The connection settings for the stack in `dir`. */
export function stackInfo(dir: string = stateDir()): StackInfo {
  return {
    kafka: {
      plaintext: `${HOST}:${PORTS.kafkaPlaintext}`,
      saslSsl: `${HOST}:${PORTS.kafkaSaslSsl}`,
      caFile: join(dir, "kafka", "tls", "ca.pem"),
      version: KAFKA_VERSION,
      username: KAFKA_USERS.app.username,
      password: KAFKA_USERS.app.password,
      adminUsername: KAFKA_USERS.admin.username,
      adminPassword: KAFKA_USERS.admin.password,
    },
    redisUrl: `redis://${HOST}:${PORTS.redis}`,
    databaseUrl: `postgres://${POSTGRES_APP.user}:${POSTGRES_APP.password}@${HOST}:${PORTS.postgres}/${POSTGRES_APP.database}`,
    stateDir: dir,
  };
}
