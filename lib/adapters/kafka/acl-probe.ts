/**
 * A signed-in Kafka connection for the doctor, built by {@link createKafka} (same brokers, TLS, CA and SASL as
 * the producer and consumer) that can send the hand-encoded requests of kafka-protocol.ts.
 *
 * kafkajs 2.2.4 (pinned, and no longer developed) only speaks Metadata up to v6 and DescribeGroups up to v2, which
 * lack authorized operations. Its connection layer, though, sends any request object it is given, after doing
 * TLS, SASL and ApiVersions itself. Reaching it needs kafkajs internals: the Kafka object's private
 * "createCluster" factory and a broker's `connectionPool.send`. Every such access is checked here and turns into
 * {@link KafkaInternalsError} if a kafkajs upgrade moves them, so the doctor reports "cannot verify" rather
 * than crash.
 */

import { silentLogger } from "../../log.ts";
import { createKafka } from "./client.ts";
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
  /** TCP, TLS, ApiVersions and SASL with a bootstrap broker; throws kafkajs' error on failure. */
  connect(): Promise<void>;
  /** Metadata (v8 when the broker speaks it) for `topics`, with authorized operations, from the bootstrap broker. */
  metadata(topics: string[]): Promise<MetadataResponse>;
  /**
   * DescribeGroups (v3 when the broker speaks it) with authorized operations, from the group's coordinator. A principal that may not even
   * DESCRIBE the group is refused at FindCoordinator; that comes back as errorCode 30 too.
   */
  describeGroup(group: string): Promise<GroupDescription>;
  /** CreateTopics with validate_only: checks that the principal may create `topic`, creates nothing. */
  validateCreateTopic(topic: string): Promise<void>;
  close(): Promise<void>;
}

/** kafkajs internals this file relies on moved or changed shape. */
export class KafkaInternalsError extends Error {
  override name = "KafkaInternalsError";
}

/** The broker does not speak the protocol version the check needs. */
export class KafkaUnsupportedVersionError extends Error {
  override name = "KafkaUnsupportedVersionError";
  constructor(
    readonly api: string,
    readonly wanted: number,
    readonly supported: number | null,
  ) {
    super(
      supported === null
        ? `the broker does not support the ${api} API`
        : `the broker supports ${api} up to v${supported}, the check needs v${wanted}`,
    );
  }
}

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
const COORDINATOR_WARMING = new Set(["GROUP_COORDINATOR_NOT_AVAILABLE", "GROUP_LOAD_IN_PROGRESS"]);

function internalCluster(kafka: object): InternalCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((symbol) => symbol.description === CREATE_CLUSTER);
  const create = key === undefined ? undefined : (kafka as Record<symbol, unknown>)[key];
  if (typeof create !== "function")
    throw new KafkaInternalsError(`kafkajs no longer has its "${CREATE_CLUSTER}" factory`);
  // No auto-creation: merely asking about a topic must never create it.
  const cluster = create({ allowAutoTopicCreation: false }) as Partial<InternalCluster>;
  if (
    typeof cluster.connect !== "function" ||
    typeof cluster.disconnect !== "function" ||
    typeof cluster.refreshMetadata !== "function" ||
    typeof cluster.findBroker !== "function" ||
    typeof cluster.brokerPool !== "object"
  )
    throw new KafkaInternalsError("kafkajs' cluster object changed shape");
  return cluster as InternalCluster;
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
    throw new KafkaInternalsError("kafkajs' broker object changed shape");
  const range = broker.versions?.[api.key];
  const version = Math.min(range?.maxVersion ?? -1, api.versions.max);
  if (!range || version < api.versions.min || version < range.minVersion)
    throw new KafkaUnsupportedVersionError(api.name, api.versions.min, range?.maxVersion ?? null);
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
 * Walks a kafkajs error and its causes for the protocol error type, e.g. "GROUP_AUTHORIZATION_FAILED".
 */
export function kafkaErrorType(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 6; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === "string") return type;
    current =
      (current as { originalError?: unknown }).originalError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Opens a lazy {@link KafkaSession}: nothing connects before `connect()`.
 * @example const session = openKafkaSession(config.kafka); await session.connect();
 */
export function openKafkaSession(config: KafkaSettings): KafkaSession {
  // Silent: kafkajs logs every refused request at error level; the doctor reports them in its own words.
  const kafka = createKafka(config, silentLogger);
  let cluster: InternalCluster | undefined;
  let admin: ReturnType<typeof kafka.admin> | undefined;
  const connected = (): InternalCluster => {
    if (!cluster) throw new KafkaInternalsError("connect() first");
    return cluster;
  };
  return {
    async connect() {
      cluster = internalCluster(kafka);
      await cluster.connect();
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
        throw new KafkaInternalsError("kafkajs' broker object changed shape");
      // FindCoordinator is sent to the seed broker directly: the cluster's own lookup tries every broker and
      // swallows their errors, which would hide GROUP_AUTHORIZATION_FAILED behind "coordinator not found".
      let nodeId: number | undefined;
      for (let attempt = 0; nodeId === undefined; attempt++) {
        try {
          ({
            coordinator: { nodeId },
          } = await seed.findGroupCoordinator({ groupId: group, coordinatorType: 0 }));
        } catch (error) {
          const type = kafkaErrorType(error);
          if (type === "GROUP_AUTHORIZATION_FAILED")
            return { errorCode: 30, groupId: group, state: "", members: 0, authorizedOperations: 0 };
          // A young cluster creates __consumer_offsets on the first lookup: worth a few short waits.
          if (!COORDINATOR_WARMING.has(type ?? "") || attempt >= 10) throw error;
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
      if (!found) throw new KafkaInternalsError(`DescribeGroups answered without group ${group}`);
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
