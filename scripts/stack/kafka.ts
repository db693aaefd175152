import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { HOST, KAFKA, KAFKA_USERS, type KafkaRelease, PORTS } from "./config.ts";
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

/** Paths of the broker's files under the state dir, for Kafka `release` (default: the stack's). */
export function layout(stateDir: string, release: KafkaRelease = KAFKA) {
  const root = join(stateDir, "kafka");
  return {
    root,
    release,
    data: join(root, "data"),
    /** The version that formatted `data`: a broker refuses, or would wrongly upgrade, another release's data. */
    dataVersion: join(root, "data-version"),
    tls: join(root, "tls"),
    logs: join(root, "logs"),
    serverProperties: join(root, "server.properties"),
    logConfig: join(root, release.log4j === 2 ? "log4j2.properties" : "log4j.properties"),
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
    // One partition, so that the coordinator answering the readiness probe's group answers every group.
    "offsets.topic.num.partitions": 1,
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

/** The per-request chatter loggers, held at WARN: they drown the lines that explain a failed start. */
const QUIET_LOGGERS = [
  "kafka.request.logger",
  "kafka.log.LogCleaner",
  "state.change.logger",
  "kafka.authorizer.logger",
];

/**
 * The broker's logging config: INFO to a rolling file (20 MB, two old files), the chatter at WARN. Kafka 4
 * logs through log4j 2, which ignores a log4j 1 file, so each generation gets its own format.
 */
export function logConfig(paths: Layout): string {
  const lines =
    paths.release.log4j === 2
      ? [
          // log4j 2's own warnings (a bad config) go to the broker's stdout, i.e. kafka.out.
          "status = warn",
          "appender.file.type = RollingFile",
          "appender.file.name = file",
          `appender.file.fileName = ${paths.serverLog}`,
          `appender.file.filePattern = ${paths.serverLog}.%i`,
          "appender.file.layout.type = PatternLayout",
          "appender.file.layout.pattern = [%d] %p %m (%c)%n",
          "appender.file.policies.type = Policies",
          "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
          "appender.file.policies.size.size = 20MB",
          "appender.file.strategy.type = DefaultRolloverStrategy",
          "appender.file.strategy.max = 2",
          "rootLogger.level = INFO",
          "rootLogger.appenderRef.file.ref = file",
          ...QUIET_LOGGERS.flatMap((name, i) => [`logger.q${i}.name = ${name}`, `logger.q${i}.level = WARN`]),
        ]
      : [
          "log4j.rootLogger=INFO, file",
          "log4j.appender.file=org.apache.log4j.RollingFileAppender",
          `log4j.appender.file.File=${paths.serverLog}`,
          "log4j.appender.file.MaxFileSize=20MB",
          "log4j.appender.file.MaxBackupIndex=2",
          "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
          "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
          ...QUIET_LOGGERS.map((name) => `log4j.logger.${name}=WARN`),
        ];
  return `${lines.join("\n")}\n`;
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
    paths.release.log4j === 2
      ? `-Dlog4j2.configurationFile=${paths.logConfig}`
      : `-Dlog4j.configuration=file:${paths.logConfig}`,
    `-Dkafka.logs.dir=${paths.logs}`,
    "-cp",
    // Java expands the wildcard itself; no shell involved.
    `${libs}/*`,
    mainClass,
    ...args,
  ];
}

/**
 * The Kafka version a running broker was started with, read from the jar cache folder on its command line
 * (`…/kafka-<version>/libs/*`); undefined when the process is gone or was not started from such a folder.
 */
export function runningVersion(pid: number): string | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /\/kafka-([^/\0]+)\/libs\/\*/.exec(cmdline)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The version whose storage tool formatted `paths.data`, or undefined when it is not formatted. Data formatted
 * before the stack recorded this came from 3.9.1, the only release it ran then.
 */
export function formattedVersion(paths: Layout): string | undefined {
  if (!existsSync(join(paths.data, "meta.properties"))) return undefined;
  return existsSync(paths.dataVersion) ? readFileSync(paths.dataVersion, "utf8").trim() : "3.9.1";
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
  writeFileSync(paths.dataVersion, `${paths.release.version}\n`);
}

/**
 * A real metadata round-trip over PLAINTEXT, because an open port alone is not a working broker.
 * Default: each attempt gives up after 3 s.
 */
export async function kafkaAnswers(timeoutMs = 3000): Promise<boolean> {
  return probeAdmin(timeoutMs, async (admin) => {
    await admin.listTopics();
  });
}

/** Runs `probe` on a fresh PLAINTEXT admin client that never retries; true when it resolves. */
async function probeAdmin(timeoutMs: number, probe: (admin: Admin) => Promise<void>): Promise<boolean> {
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
    await probe(admin);
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

/**
 * Whether the group coordinator answers for a group, over PLAINTEXT. A freshly formatted broker creates
 * `__consumer_offsets` on the first FindCoordinator and answers COORDINATOR_LOAD_IN_PROGRESS until it has loaded
 * its partition, which a consumer retries but the doctor reports (seen on Kafka 4.1 with the default 50
 * partitions). Default: each attempt gives up after 3 s.
 */
export async function groupCoordinatorAnswers(timeoutMs = 3000): Promise<boolean> {
  return probeAdmin(timeoutMs, async (admin) => {
    // FindCoordinator needs the broker list, which connect() alone leaves empty ("No brokers in the broker pool").
    await admin.listTopics();
    await admin.describeGroups(["belly-stack-probe"]);
  });
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
      // Plain liveness: right after spawn the child may not have exec'd java yet, so no needle check.
      const abort = () => (isAlive(pid) ? undefined : `broker process ${pid} exited`);
      await waitUntil("kafka", healthy, { timeoutMs: READY_TIMEOUT_MS, intervalMs: 300, abort });
      await waitUntil("kafka's group coordinator", groupCoordinatorAnswers, {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 300,
        abort,
      });
    } catch (error) {
      throw failure(error instanceof Error ? error.message : String(error));
    }
    progress(
      "kafka",
      `ready in ${elapsed(start)} (Kafka ${paths.release.version}, PLAINTEXT ${HOST}:${PORTS.kafkaPlaintext}, SASL_SSL ${HOST}:${PORTS.kafkaSaslSsl})`,
    );
  };

  return {
    name: "kafka",
    async up(progress): Promise<UpOutcome> {
      const start = performance.now();
      const wanted = paths.release.version;
      const running = ourPid();
      const runs = running === undefined ? undefined : runningVersion(running);
      // Reusing another release's broker would run every test against the wrong Kafka without a word.
      if (running !== undefined && runs !== undefined && runs !== wanted) {
        throw new Error(
          `kafka: the broker this stack started (pid ${running}, ${stateDir}) runs Kafka ${runs}, not ${wanted} (BELLY_KAFKA_VERSION); stop it first: bun run scripts/stack.ts down`,
        );
      }
      if (await healthy()) {
        // A broker started from another state dir (another checkout) has a CA that clients here cannot find.
        if (!existsSync(tlsFiles(paths.tls).caFile)) {
          throw new Error(
            `kafka: a broker already runs on ${HOST}:${PORTS.kafkaPlaintext} but ${tlsFiles(paths.tls).caFile} is missing, so SASL_SSL clients could not trust it; stop that broker (bun run scripts/stack.ts down in the checkout that started it)`,
          );
        }
        return "reused";
      }
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
      const libs = await ensureKafkaJars(progress, paths.release);
      const formatted = formattedVersion(paths);
      if (formatted !== undefined && formatted !== wanted) {
        // One release cannot run on data of a newer one, and the stack holds test data only: start afresh.
        progress("kafka", `data was formatted by Kafka ${formatted}; formatting it afresh for ${wanted}…`);
        rmSync(paths.data, { recursive: true, force: true });
      }
      mkdirSync(paths.logs, { recursive: true });
      mkdirSync(paths.data, { recursive: true });
      const tls = await ensureTls(paths.tls);
      writeFileSync(paths.serverProperties, serverProperties(paths, tls));
      writeFileSync(paths.logConfig, logConfig(paths));
      if (!existsSync(join(paths.data, "meta.properties"))) {
        progress("kafka", `formatting storage for Kafka ${wanted} with SCRAM users…`);
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
      const pid = ourPid();
      // The running broker's own release, which differs from the wanted one until it is restarted.
      const version = (pid === undefined ? undefined : runningVersion(pid)) ?? paths.release.version;
      return {
        name: "kafka",
        healthy: ok,
        pid,
        detail: `Kafka ${version}, PLAINTEXT ${HOST}:${PORTS.kafkaPlaintext}, SASL_SSL ${HOST}:${PORTS.kafkaSaslSsl}`,
      };
    },
  };
}
