import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Repository root, found from this file so that the stack works from any working directory. */
export const REPO_ROOT = resolve(import.meta.dir, "../..");

/** Loopback only: the stack must never be reachable from another machine. */
export const HOST = "127.0.0.1";

/** Fixed ports, away from the defaults so that a developer's own services do not clash. */
export const PORTS = {
  kafkaPlaintext: 19092,
  kafkaSaslSsl: 19093,
  kafkaController: 19094,
  redis: 16379,
  postgres: 15432,
} as const;

/** Apache Kafka release run by the stack; 3.x because kafkajs needs protocol versions 4.x dropped. */
export const KAFKA_VERSION = "3.9.1";
/** slf4j binding matching the slf4j-api 1.7.x that Kafka 3.9 depends on. */
export const SLF4J_VERSION = "1.7.36";

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

/** Jar cache shared by every checkout: `${XDG_CACHE_HOME:-~/.cache}/belly-stream/kafka-<version>`. */
export function kafkaCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "belly-stream", `kafka-${KAFKA_VERSION}`);
}

/** The connection settings for the stack in `dir`. */
export function stackInfo(dir: string = stateDir()): StackInfo {
  return {
    kafka: {
      plaintext: `${HOST}:${PORTS.kafkaPlaintext}`,
      saslSsl: `${HOST}:${PORTS.kafkaSaslSsl}`,
      caFile: join(dir, "kafka", "tls", "ca.pem"),
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
