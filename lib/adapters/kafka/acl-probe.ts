/**
 * The doctor's ACL probe: a signed-in Kafka connection, built by {@link createKafka} (same brokers, TLS, CA and
 * SASL as the producer and consumer), that sends the hand-encoded requests of protocol.ts.
 *
 * kafkajs 2.2.4 (pinned, and no longer developed) only speaks Metadata up to v6 and DescribeGroups up to v2, which
 * lack authorized operations. Its connection layer, though, sends any request object it is given, after doing
 * TLS, SASL and ApiVersions itself. Reaching it needs kafkajs internals: the Kafka object's private
 * "createCluster" factory and a broker's `connectionPool.send`. This file is the only one that touches them;
 * every access is checked and turns into an {@link AclProbeError} naming the kafkajs version, so that the doctor
 * reports "ACL check unavailable" instead of crashing, and tests/kafka-internals.test.ts fails on an upgrade.
 */

import kafkajsPackage from "kafkajs/package.json";
import { silentLogger } from "../../log.ts";
import { createKafka } from "./client.ts";
import { AclProbeError, hasKafkaErrorType } from "./failures.ts";
import {
  API_KEYS,
  API_VERSIONS,
  decodeDescribeGroupsResponse,
  decodeMetadataResponse,
  encodeDescribeGroupsRequest,
  encodeMetadataRequest,
  type GroupDescription,
  type MetadataResponse,
} from "./protocol.ts";
import type { KafkaSettings } from "./settings.ts";

/** What the Kafka checks need from a connection; faked in unit tests. */
export interface KafkaSession {
  /**
   * TCP, TLS, ApiVersions and SASL with a bootstrap broker; throws kafkajs' error on failure. Should the kafkajs
   * internals be gone, it signs in through the public admin client instead, and the requests below throw.
   */
  connect(): Promise<void>;
  /** Metadata (v8 when the broker speaks it) for `topics`, with authorized operations, from the bootstrap broker. */
  metadata(topics: string[]): Promise<MetadataResponse>;
  /**
   * DescribeGroups (v3 when the broker speaks it) with authorized operations, from the group's coordinator. A
   * principal that may not even DESCRIBE the group is refused at FindCoordinator; that comes back as errorCode 30.
   */
  describeGroup(group: string): Promise<GroupDescription>;
  /** CreateTopics with validate_only: checks that the principal may create `topic`, creates nothing. */
  validateCreateTopic(topic: string): Promise<void>;
  close(): Promise<void>;
}

const internalsChanged = (detail: string) =>
  new AclProbeError(`ACL check unavailable: kafkajs ${kafkajsPackage.version} internals changed: ${detail}`);

interface ProtocolRequest {
  request: {
    apiKey: number;
    apiVersion: number;
    apiName: string;
    encode(): Promise<{ buf: Buffer; buffer: Buffer }>;
  };
  response: { decode(raw: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> };
  requestTimeout?: number;
  logResponseError?: boolean;
}

interface InternalBroker {
  connectionPool: { send(request: ProtocolRequest): Promise<unknown> };
  versions: Record<number, { minVersion: number; maxVersion: number }> | null;
  findGroupCoordinator(args: {
    groupId: string;
    coordinatorType: number;
  }): Promise<{ coordinator: { nodeId: number } }>;
}

interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  brokerPool: { seedBroker?: InternalBroker };
  findBroker(args: { nodeId: string }): Promise<InternalBroker>;
}

const CREATE_CLUSTER = "private:Kafka:createCluster";
/** The members of kafkajs' Cluster used here, with the type each must have. */
const CLUSTER_SHAPE = {
  connect: "function",
  disconnect: "function",
  refreshMetadata: "function",
  findBroker: "function",
  brokerPool: "object",
};
const COORDINATOR_WARMING = ["GROUP_COORDINATOR_NOT_AVAILABLE", "GROUP_LOAD_IN_PROGRESS"];

function internalCluster(kafka: object): InternalCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((symbol) => symbol.description === CREATE_CLUSTER);
  const create = key === undefined ? undefined : (kafka as Record<symbol, unknown>)[key];
  if (typeof create !== "function") throw internalsChanged(`no "${CREATE_CLUSTER}" factory`);
  // No auto-creation: merely asking about a topic must never create it.
  const cluster = create({ allowAutoTopicCreation: false }) as Record<string, unknown>;
  const missing = Object.entries(CLUSTER_SHAPE)
    .filter(([name, type]) => typeof cluster[name] !== type)
    .map(([name]) => name);
  if (missing.length > 0) throw internalsChanged(`the cluster has no ${missing.join(", ")}`);
  return cluster as unknown as InternalCluster;
}

/**
 * Sends one hand-encoded request through a connected kafkajs broker, in the newest version both sides speak.
 */
async function send<T>(
  broker: InternalBroker | undefined,
  api: { name: string; key: number; versions: { min: number; max: number } },
  encode: (version: number) => Buffer,
  decode: (body: Buffer, version: number) => T,
): Promise<T> {
  if (!broker || typeof broker.connectionPool?.send !== "function")
    throw internalsChanged("the broker has no connectionPool.send");
  const range = broker.versions?.[api.key];
  const version = Math.min(range?.maxVersion ?? -1, api.versions.max);
  if (!range || version < api.versions.min || version < range.minVersion)
    throw new AclProbeError(
      range
        ? `the broker supports ${api.name} up to v${range.maxVersion}, the check needs v${api.versions.min}`
        : `the broker does not support the ${api.name} API`,
    );
  const body = encode(version);
  const encoded = { buf: body, buffer: body };
  const result = await broker.connectionPool.send({
    request: { apiKey: api.key, apiVersion: version, apiName: api.name, encode: async () => encoded },
    response: {
      decode: async (raw) => decode(raw, version),
      parse: async (decoded) => decoded,
    },
    logResponseError: false,
  });
  return result as T;
}

/**
 * Opens a lazy {@link KafkaSession}: nothing connects before `connect()`.
 * @example const session = openKafkaSession(config.kafka); await session.connect();
 */
export function openKafkaSession(config: KafkaSettings): KafkaSession {
  // Silent: kafkajs logs every refused request at error level; the doctor reports them in its own words.
  const kafka = createKafka(config, silentLogger);
  let cluster: InternalCluster | undefined;
  let unavailable: AclProbeError | undefined;
  let admin: ReturnType<typeof kafka.admin> | undefined;
  const connected = (): InternalCluster => {
    if (!cluster) throw unavailable ?? new AclProbeError("connect() first");
    return cluster;
  };
  return {
    async connect() {
      try {
        cluster = internalCluster(kafka);
      } catch (error) {
        // Building the cluster does no I/O, so whatever it throws says the internals changed.
        unavailable = error instanceof AclProbeError ? error : internalsChanged(String(error));
      }
      // Without the internals the credentials are still worth checking, through the public admin client.
      if (cluster) return cluster.connect();
      admin ??= kafka.admin();
      await admin.connect();
    },
    metadata(topics) {
      return send(
        connected().brokerPool.seedBroker,
        { name: "Metadata", key: API_KEYS.metadata, versions: API_VERSIONS.metadata },
        (version) => encodeMetadataRequest(topics, version),
        decodeMetadataResponse,
      );
    },
    async describeGroup(group) {
      const cluster = connected();
      const seed = cluster.brokerPool.seedBroker;
      if (typeof seed?.findGroupCoordinator !== "function")
        throw internalsChanged("the seed broker has no findGroupCoordinator");
      // FindCoordinator is sent to the seed broker directly: the cluster's own lookup tries every broker and
      // swallows their errors, which would hide GROUP_AUTHORIZATION_FAILED behind "coordinator not found".
      let nodeId: number | undefined;
      for (let attempt = 0; nodeId === undefined; attempt++) {
        try {
          ({
            coordinator: { nodeId },
          } = await seed.findGroupCoordinator({ groupId: group, coordinatorType: 0 }));
        } catch (error) {
          if (hasKafkaErrorType(error, "GROUP_AUTHORIZATION_FAILED"))
            return { errorCode: 30, groupId: group, state: "", members: 0, authorizedOperations: 0 };
          // A young cluster creates __consumer_offsets on the first lookup: worth a few short waits.
          if (!hasKafkaErrorType(error, ...COORDINATOR_WARMING) || attempt >= 10) throw error;
          await Bun.sleep(300);
        }
      }
      await cluster.refreshMetadata();
      const coordinator = await cluster.findBroker({ nodeId: String(nodeId) });
      const { groups } = await send(
        coordinator,
        { name: "DescribeGroups", key: API_KEYS.describeGroups, versions: API_VERSIONS.describeGroups },
        (version) => encodeDescribeGroupsRequest([group], version),
        decodeDescribeGroupsResponse,
      );
      const found = groups.find((g) => g.groupId === group);
      if (!found) throw new AclProbeError(`DescribeGroups answered without group ${group}`);
      return found;
    },
    async validateCreateTopic(topic) {
      admin ??= kafka.admin();
      await admin.connect();
      await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic }] });
    },
    async close() {
      await Promise.allSettled([cluster?.disconnect(), admin?.disconnect()]);
    },
  };
}
