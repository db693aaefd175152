import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { HOST, KAFKA_USERS, PORTS } from "./config.ts";
import { ensureKafkaJars } from "./kafka-jars.ts";
import { isAlive, isOurProcess, readPid, run, spawnDetached, stopProcess, tailFile } from "./process.ts";
import type { Service, ServiceStatus, UpOutcome } from "./service.ts";
import { ensureTls, KEYSTORE_PASSWORD, type TlsFiles, tlsFiles } from "./tls.ts";
import { elapsed, isPortOpen, type Progress, waitUntil } from "./wait.ts";

/** How long a starting broker may take before `up` gives up; a cold JVM on 2 cores needs ~10 s. */
const READY_TIMEOUT_MS = 90_000;
/** Controlled shutdown of a single node is quick; past this the broker is stuck. */
const STOP_GRACE_MS = 30_000;
const HEAP = ["-Xms256m", "-Xmx512m"];
const SCRAM_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/** Paths of the broker's files under the state dir. */
export function layout(stateDir: string) {
  const root = join(stateDir, "kafka");
  return {
    root,
    data: join(root, "data"),
    tls: join(root, "tls"),
    logs: join(root, "logs"),
    serverProperties: join(root, "server.properties"),
    log4jProperties: join(root, "log4j.properties"),
    pidFile: join(root, "kafka.pid"),
    stdout: join(root, "logs", "kafka.out"),
    serverLog: join(root, "logs", "server.log"),
  };
}
/** Where one broker keeps its data, config, logs and pid file. */
export type Layout = ReturnType<typeof layout>;

function serverProperties(paths: Layout, tls: TlsFiles): string {
  const plainUsers = Object.values(KAFKA_USERS)
    .map((user) => `user_${user.username}="${user.password}"`)
    .join(" ");
  const props: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@${HOST}:${PORTS.kafkaController}`,
    listeners: [
      `PLAINTEXT://${HOST}:${PORTS.kafkaPlaintext}`,
      `SASL_SSL://${HOST}:${PORTS.kafkaSaslSsl}`,
      `CONTROLLER://${HOST}:${PORTS.kafkaController}`,
    ].join(","),
    "advertised.listeners": `PLAINTEXT://${HOST}:${PORTS.kafkaPlaintext},SASL_SSL://${HOST}:${PORTS.kafkaSaslSsl}`,
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
    "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config":
      "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config":
      "org.apache.kafka.common.security.scram.ScramLoginModule required;",
    "listener.name.sasl_ssl.plain.sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    "ssl.keystore.type": "PKCS12",
    "ssl.keystore.location": tls.keystore,
    "ssl.keystore.password": KEYSTORE_PASSWORD,
    "ssl.key.password": KEYSTORE_PASSWORD,
    "ssl.client.auth": "none",
    // Unauthenticated PLAINTEXT and the controller listener are ANONYMOUS: super so the cluster works,
    // and allow-if-no-ACL so a test can lock one topic down just by adding ACLs to it.
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users": `User:ANONYMOUS;User:${KAFKA_USERS.admin.username}`,
    "allow.everyone.if.no.acl.found": true,
    "log.dirs": paths.data,
    "num.partitions": 3,
    "auto.create.topics.enable": true,
    "offsets.topic.replication.factor": 1,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "min.insync.replicas": 1,
    "group.initial.rebalance.delay.ms": 0,
    // Small segments and a short retention keep a long-lived test broker's disk use low.
    "log.segment.bytes": 16 * 1024 * 1024,
    "log.retention.hours": 24,
  };
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")}\n`;
}

/** The broker's log4j config: INFO to a rolling file, the per-request chatter at WARN. */
export function log4jProperties(paths: Layout): string {
  return `${[
    "log4j.rootLogger=INFO, file",
    "log4j.appender.file=org.apache.log4j.RollingFileAppender",
    `log4j.appender.file.File=${paths.serverLog}`,
    "log4j.appender.file.MaxFileSize=20MB",
    "log4j.appender.file.MaxBackupIndex=2",
    "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
    // Per-request and per-record chatter drowns the lines that explain a failed start.
    "log4j.logger.kafka.request.logger=WARN",
    "log4j.logger.org.apache.kafka.controller=INFO",
    "log4j.logger.kafka.log.LogCleaner=WARN",
    "log4j.logger.state.change.logger=WARN",
    "log4j.logger.kafka.authorizer.logger=WARN",
  ].join("\n")}\n`;
}

/**
 * A random KRaft cluster id: 16 bytes, URL-safe base64 without padding, as `kafka-storage random-uuid` prints.
 * Like Kafka's own generator, never one starting with "-", which the tool's argument parser takes for a flag.
 */
export function clusterId(): string {
  // "A" only zeroes the first 6 bits, so the id still decodes to 16 bytes.
  return randomBytes(16).toString("base64url").replace(/^-/, "A");
}

/** The java command line running `mainClass` from the Kafka jars in `libs`, with a 256–512 MiB heap. */
export function java(libs: string, paths: Layout, mainClass: string, args: string[]): string[] {
  return [
    "java",
    ...HEAP,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dlog4j.configuration=file:${paths.log4jProperties}`,
    `-Dkafka.logs.dir=${paths.logs}`,
    "-cp",
    // Java expands the wildcard itself; no shell involved.
    `${libs}/*`,
    mainClass,
    ...args,
  ];
}

/** Formats the storage once, with the SCRAM users, since KRaft only accepts bootstrap credentials at format time. */
async function formatStorage(libs: string, paths: Layout): Promise<void> {
  if (existsSync(join(paths.data, "meta.properties"))) return;
  const scram = Object.values(KAFKA_USERS).flatMap((user) =>
    SCRAM_MECHANISMS.flatMap((mechanism) => [
      "--add-scram",
      `${mechanism}=[name=${user.username},password=${user.password}]`,
    ]),
  );
  await run(
    java(libs, paths, "kafka.tools.StorageTool", [
      "format",
      "--ignore-formatted",
      `--cluster-id=${clusterId()}`,
      `--config=${paths.serverProperties}`,
      ...scram,
    ]),
  );
}

/**
 * A real metadata round-trip over PLAINTEXT, because an open port alone is not a working broker.
 * Default: each attempt gives up after 3 s.
 */
export async function kafkaAnswers(timeoutMs = 3000): Promise<boolean> {
  const admin = new Kafka({
    clientId: "belly-stack-probe",
    brokers: [`${HOST}:${PORTS.kafkaPlaintext}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function healthy(): Promise<boolean> {
  const [plain, sasl] = await Promise.all([isPortOpen(PORTS.kafkaPlaintext), isPortOpen(PORTS.kafkaSaslSsl)]);
  return plain && sasl && (await kafkaAnswers());
}

/** Single-node KRaft broker+controller from Maven Central jars, with PLAINTEXT and SASL_SSL listeners. */
export function kafkaService(stateDir: string): Service {
  const paths = layout(stateDir);
  const needle = paths.serverProperties;
  const ourPid = () => {
    const pid = readPid(paths.pidFile);
    return isOurProcess(pid, needle) ? pid : undefined;
  };
  const failure = (message: string) =>
    new Error(
      `${message}\n--- tail of ${paths.serverLog} ---\n${tailFile(paths.serverLog)}\n--- tail of ${paths.stdout} ---\n${tailFile(paths.stdout, 15)}`,
    );

  const waitReady = async (pid: number, start: number, progress: Progress) => {
    try {
      await waitUntil("kafka", healthy, {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 300,
        // Plain liveness: right after spawn the child may not have exec'd java yet, so no needle check.
        abort: () => (isAlive(pid) ? undefined : `broker process ${pid} exited`),
      });
    } catch (error) {
      throw failure(error instanceof Error ? error.message : String(error));
    }
    progress(
      "kafka",
      `ready in ${elapsed(start)} (PLAINTEXT ${HOST}:${PORTS.kafkaPlaintext}, SASL_SSL ${HOST}:${PORTS.kafkaSaslSsl})`,
    );
  };

  return {
    name: "kafka",
    async up(progress): Promise<UpOutcome> {
      const start = performance.now();
      if (await healthy()) {
        // A broker started from another state dir (another checkout) has a CA that clients here cannot find.
        if (!existsSync(tlsFiles(paths.tls).caFile)) {
          throw new Error(
            `kafka: a broker already runs on ${HOST}:${PORTS.kafkaPlaintext} but ${tlsFiles(paths.tls).caFile} is missing, so SASL_SSL clients could not trust it; stop that broker (bun run scripts/stack.ts down in the checkout that started it)`,
          );
        }
        return "reused";
      }
      const running = ourPid();
      if (running !== undefined) {
        progress("kafka", `pid ${running} is starting; waiting…`);
        await waitReady(running, start, progress);
        return "reused";
      }
      for (const port of [PORTS.kafkaPlaintext, PORTS.kafkaSaslSsl, PORTS.kafkaController]) {
        if (await isPortOpen(port)) {
          throw new Error(
            `kafka: port ${port} is taken by a process this stack did not start and it is not a healthy broker; stop it or free the port`,
          );
        }
      }
      const libs = await ensureKafkaJars(progress);
      mkdirSync(paths.logs, { recursive: true });
      mkdirSync(paths.data, { recursive: true });
      const tls = await ensureTls(paths.tls);
      writeFileSync(paths.serverProperties, serverProperties(paths, tls));
      writeFileSync(paths.log4jProperties, log4jProperties(paths));
      if (!existsSync(join(paths.data, "meta.properties"))) {
        progress("kafka", "formatting storage with SCRAM users…");
        await formatStorage(libs, paths);
      }
      progress("kafka", "starting broker…");
      const pid = spawnDetached(java(libs, paths, "kafka.Kafka", [paths.serverProperties]), {
        cwd: paths.root,
        logFile: paths.stdout,
      });
      writeFileSync(paths.pidFile, `${pid}\n`);
      try {
        await waitReady(pid, start, progress);
      } catch (error) {
        // A broker that never became ready would otherwise be waited on again by the next `up`.
        if (isAlive(pid)) await stopProcess(pid, { needle: "java", graceMs: 5000 });
        throw error;
      }
      return "started";
    },

    async down(wipe) {
      const pid = ourPid();
      let did = "not running";
      if (pid !== undefined) did = `${await stopProcess(pid, { needle, graceMs: STOP_GRACE_MS })} pid ${pid}`;
      else if (await isPortOpen(PORTS.kafkaPlaintext)) did = "left running (not started by this stack)";
      rmSync(paths.pidFile, { force: true });
      if (wipe) rmSync(paths.root, { recursive: true, force: true });
      return did;
    },

    async status(): Promise<ServiceStatus> {
      const ok = await healthy();
      return {
        name: "kafka",
        healthy: ok,
        pid: ourPid(),
        detail: `PLAINTEXT ${HOST}:${PORTS.kafkaPlaintext}, SASL_SSL ${HOST}:${PORTS.kafkaSaslSsl}`,
      };
    },
  };
}
