/**
 * A local 3-broker Apache Kafka cluster (KRaft, each node broker and controller, replication factor 3,
 * min.insync.replicas 2) for fault tests, from the same Maven Central jars as the stack's single broker.
 * Each broker's client listener is reached through a loopback relay (tests/support/relay.ts) and advertises
 * the relay's port, so that a test can cut, freeze or slow the clients' links to Kafka as well as kill and
 * restart a broker. Everything binds 127.0.0.1; the state lives in a temporary directory removed by `stop`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { clusterId, java, type Layout, layout, logConfig } from "../../scripts/stack/kafka.ts";
import { ensureKafkaJars } from "../../scripts/stack/kafka-jars.ts";
import { isAlive, run, spawnDetached, stopProcess, tailFile } from "../../scripts/stack/process.ts";
import { isPortOpen } from "../../scripts/stack/wait.ts";
import { type Relay, startRelay } from "./relay.ts";

const HOST = "127.0.0.1";
/** Partitions of `__consumer_offsets`; few, so that a fresh cluster elects their leaders quickly. */
const OFFSETS_PARTITIONS = 6;

/** One node of the cluster. */
export interface ClusterNode {
  id: number;
  /** The relay in front of the node's client listener; its port is what the node advertises. */
  relay: Relay;
  /** Whether the node's process runs. */
  running(): boolean;
}

/** A running cluster. */
export interface KafkaCluster {
  /** Bootstrap addresses for clients: the relays, `127.0.0.1:<port>` each. */
  brokers: string[];
  nodes: ClusterNode[];
  /** Kills node `id` (SIGKILL by default, SIGTERM for a controlled shutdown) and waits until it is gone. */
  kill(id: number, signal?: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts node `id` again on its data, and waits until its client port answers. */
  restart(id: number): Promise<void>;
  /** The node leading `partition` of `topic` now. */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** The node coordinating consumer group `group` now (the leader of its `__consumer_offsets` partition). */
  coordinatorOf(group: string): Promise<number>;
  /** Every relay set back to a plain relay. */
  restoreLinks(): void;
  /** The tail of node `id`'s server log, for a failure message. */
  logTail(id: number): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no free port");
  return address.port;
}

interface NodePorts {
  client: number;
  broker: number;
  controller: number;
}

function nodeProperties(
  id: number,
  paths: Layout,
  ports: NodePorts,
  advertised: number,
  voters: string,
): string {
  const props: Record<string, string | number | boolean> = {
    "process.roles": "broker,controller",
    "node.id": id,
    "controller.quorum.voters": voters,
    listeners: `CLIENT://${HOST}:${ports.client},BROKER://${HOST}:${ports.broker},CONTROLLER://${HOST}:${ports.controller}`,
    // Clients learn the relay's address from the metadata, so every later connection goes through it too.
    "advertised.listeners": `CLIENT://${HOST}:${advertised},BROKER://${HOST}:${ports.broker}`,
    "listener.security.protocol.map": "CLIENT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "BROKER",
    "log.dirs": paths.data,
    "num.partitions": 3,
    "default.replication.factor": 3,
    "min.insync.replicas": 2,
    "offsets.topic.replication.factor": 3,
    "offsets.topic.num.partitions": OFFSETS_PARTITIONS,
    "transaction.state.log.replication.factor": 3,
    "transaction.state.log.min.isr": 2,
    "auto.create.topics.enable": false,
    "group.initial.rebalance.delay.ms": 0,
    // A killed node is fenced within seconds, so that its partitions move to the survivors quickly.
    "broker.session.timeout.ms": 6_000,
    "broker.heartbeat.interval.ms": 1_000,
    "log.segment.bytes": 8 * 1024 * 1024,
  };
  return `${Object.entries(props)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")}\n`;
}

/** Java's String.hashCode, which Kafka uses to place a group on a `__consumer_offsets` partition. */
function javaHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(31, hash) + text.charCodeAt(i)) | 0;
  return hash;
}

/**
 * Starts a fresh 3-node cluster and resolves once every node's client port answers; with `waitForMetadata`
 * (the default) also once a metadata request through the relays lists all three brokers. A cold start on 2
 * cores takes 15–30 s.
 * @example const cluster = await startKafkaCluster(); cluster.brokers // ["127.0.0.1:40111", …]
 */
export async function startKafkaCluster(
  options: { waitForMetadata?: boolean; progress?: (line: string) => void } = {},
): Promise<KafkaCluster> {
  const progress = options.progress ?? (() => {});
  const libs = await ensureKafkaJars(() => {});
  const root = mkdtempSync(join(tmpdir(), "belly-kafka-cluster-"));
  const ids = [1, 2, 3];
  const ports = new Map<number, NodePorts>();
  for (const id of ids)
    ports.set(id, { client: await freePort(), broker: await freePort(), controller: await freePort() });
  const portsOf = (id: number) => ports.get(id) as NodePorts;
  const relays = new Map<number, Relay>();
  for (const id of ids) relays.set(id, await startRelay({ host: HOST, port: portsOf(id).client }));
  const relayOf = (id: number) => relays.get(id) as Relay;
  const voters = ids.map((id) => `${id}@${HOST}:${portsOf(id).controller}`).join(",");
  const paths = new Map(ids.map((id) => [id, layout(join(root, `node-${id}`))]));
  const pathsOf = (id: number) => paths.get(id) as Layout;
  const pids = new Map<number, number>();
  const cluster = clusterId();

  for (const id of ids) {
    const node = pathsOf(id);
    mkdirSync(node.logs, { recursive: true });
    mkdirSync(node.data, { recursive: true });
    writeFileSync(node.serverProperties, nodeProperties(id, node, portsOf(id), relayOf(id).port, voters));
    writeFileSync(node.logConfig, logConfig(node));
  }
  await Promise.all(
    ids.map((id) =>
      run(
        java(libs, pathsOf(id), "kafka.tools.StorageTool", [
          "format",
          `--cluster-id=${cluster}`,
          `--config=${pathsOf(id).serverProperties}`,
        ]),
      ),
    ),
  );

  const spawn = (id: number) => {
    const node = pathsOf(id);
    pids.set(
      id,
      spawnDetached(java(libs, node, "kafka.Kafka", [node.serverProperties]), {
        cwd: node.root,
        logFile: node.stdout,
      }),
    );
  };
  const running = (id: number) => {
    const pid = pids.get(id);
    return pid !== undefined && isAlive(pid);
  };
  const logTail = (id: number) => tailFile(pathsOf(id).serverLog, 30);
  const waitPort = async (id: number, timeoutMs = 90_000) => {
    const deadline = performance.now() + timeoutMs;
    while (!(await isPortOpen(portsOf(id).client))) {
      if (!running(id)) throw new Error(`kafka node ${id} exited:\n${logTail(id)}`);
      if (performance.now() > deadline) throw new Error(`kafka node ${id} not listening:\n${logTail(id)}`);
      await Bun.sleep(200);
    }
  };
  const brokers = ids.map((id) => `${HOST}:${relayOf(id).port}`);
  const withAdmin = async <T>(work: (admin: Admin) => Promise<T>): Promise<T> => {
    const admin = new Kafka({
      clientId: "belly-cluster-probe",
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 200 },
    }).admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  };
  const leaderOf = (topic: string, partition: number) =>
    withAdmin(async (admin) => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const leader = topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
      if (leader === undefined || leader < 0) throw new Error(`${topic}/${partition} has no leader`);
      return leader;
    });

  const start = performance.now();
  for (const id of ids) spawn(id);
  const stop = async () => {
    await Promise.all(
      ids.map(async (id) => {
        const pid = pids.get(id);
        if (pid !== undefined && isAlive(pid)) await stopProcess(pid, { needle: "java", signal: "SIGKILL" });
      }),
    );
    await Promise.all([...relays.values()].map((relay) => relay.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(ids.map((id) => waitPort(id)));
    if (options.waitForMetadata ?? true) {
      const deadline = performance.now() + 90_000;
      for (;;) {
        const seen = await withAdmin((admin) => admin.describeCluster()).then(
          (d) => d.brokers.length,
          () => 0,
        );
        if (seen === ids.length) break;
        if (performance.now() > deadline) throw new Error(`the cluster lists ${seen} of 3 brokers`);
        await Bun.sleep(300);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  progress(`3-broker cluster ready in ${((performance.now() - start) / 1000).toFixed(1)} s`);

  return {
    brokers,
    nodes: ids.map((id) => ({ id, relay: relayOf(id), running: () => running(id) })),
    async kill(id, signal = "SIGKILL") {
      const pid = pids.get(id);
      if (pid === undefined || !isAlive(pid)) return;
      await stopProcess(pid, { needle: "java", signal, graceMs: 30_000 });
    },
    async restart(id) {
      if (running(id)) return;
      spawn(id);
      await waitPort(id);
    },
    leaderOf,
    async coordinatorOf(group) {
      return leaderOf("__consumer_offsets", (javaHash(group) & 0x7fffffff) % OFFSETS_PARTITIONS);
    },
    restoreLinks() {
      for (const relay of relays.values()) relay.restore();
    },
    logTail,
    stop,
  };
}
