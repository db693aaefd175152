/**
 * The two Kafka requests kafkajs cannot send but the doctor needs, encoded by hand (KIP-430):
 * Metadata v8 with `include_topic_authorized_operations` and DescribeGroups v3 with
 * `include_authorized_operations`. Both ask the broker which ACL operations the signed-in principal may perform
 * on a topic or a group, computed by the broker's own authorizer — so the doctor learns "may WRITE" without
 * writing, and "may READ the group" without joining it (a join would rebalance the running consumers).
 * Both versions are non-flexible (no tagged fields), so kafkajs' v1 request header fits them. Brokers too old for
 * them get an older version of the same request, whose answers say "not reported" (see OPERATIONS_NOT_REPORTED).
 */

/** Kafka API keys used here. */
export const API_KEYS = { metadata: 3, describeGroups: 15 } as const;
/**
 * Versions sent: the first ones that carry authorized operations. Older brokers get the newest version they speak
 * down to these minimums, and their answers say "not reported".
 */
export const API_VERSIONS = {
  metadata: { min: 5, max: 8 },
  describeGroups: { min: 0, max: 3 },
} as const;

/** ACL operations as the protocol numbers them (AclOperation); bit `1 << code` of an authorized-operations field. */
const ACL_OPERATIONS = {
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const;

/** An operation name of {@link ACL_OPERATIONS}. */
export type AclOperation = keyof typeof ACL_OPERATIONS;

/** INT32_MIN: the broker did not compute authorized operations (not asked, or it does not support them). */
export const OPERATIONS_NOT_REPORTED = -2_147_483_648;

/** Error codes the doctor tells apart; the rest are shown by number. */
const KAFKA_ERROR_CODES: Readonly<Record<number, string>> = {
  0: "NONE",
  3: "UNKNOWN_TOPIC_OR_PARTITION",
  5: "LEADER_NOT_AVAILABLE",
  14: "COORDINATOR_LOAD_IN_PROGRESS",
  15: "COORDINATOR_NOT_AVAILABLE",
  16: "NOT_COORDINATOR",
  17: "INVALID_TOPIC_EXCEPTION",
  29: "TOPIC_AUTHORIZATION_FAILED",
  30: "GROUP_AUTHORIZATION_FAILED",
  31: "CLUSTER_AUTHORIZATION_FAILED",
  35: "UNSUPPORTED_VERSION",
  69: "GROUP_ID_NOT_FOUND",
};

/** The name of a Kafka error code, e.g. 29 -> "TOPIC_AUTHORIZATION_FAILED". */
export function kafkaErrorName(code: number): string {
  return KAFKA_ERROR_CODES[code] ?? `error code ${code}`;
}

/**
 * The operations set in an authorized-operations bit field, or null when the broker did not report them.
 * @example authorizedOperations((1 << 3) | (1 << 8)) // Set { "READ", "DESCRIBE" }
 */
export function authorizedOperations(bits: number): Set<AclOperation> | null {
  if (bits === OPERATIONS_NOT_REPORTED) return null;
  const out = new Set<AclOperation>();
  for (const [name, code] of Object.entries(ACL_OPERATIONS) as [AclOperation, number][])
    if ((bits & (1 << code)) !== 0) out.add(name);
  return out;
}

/**
 * The bit field for a set of operations (the inverse of {@link authorizedOperations}); for tests and fakes.
 * @example operationBits(["READ", "DESCRIBE"]) // 264
 */
export function operationBits(operations: Iterable<AclOperation>): number {
  let bits = 0;
  for (const name of operations) bits |= 1 << ACL_OPERATIONS[name];
  return bits;
}

/** A topic in a Metadata v8 response. */
export interface TopicMetadata {
  name: string;
  errorCode: number;
  isInternal: boolean;
  partitions: number;
  /** Raw bit field; see {@link authorizedOperations}. */
  authorizedOperations: number;
}

/** A Metadata v8 response. */
export interface MetadataResponse {
  throttleTimeMs: number;
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string | null;
  controllerId: number;
  topics: TopicMetadata[];
  clusterAuthorizedOperations: number;
}

/** A group in a DescribeGroups v3 response. */
export interface GroupDescription {
  errorCode: number;
  groupId: string;
  /** "Empty", "Stable", ... or "Dead" for a group that does not exist (yet). */
  state: string;
  members: number;
  /** Raw bit field; see {@link authorizedOperations}. */
  authorizedOperations: number;
}

/** A DescribeGroups v3 response. */
interface DescribeGroupsResponse {
  throttleTimeMs: number;
  groups: GroupDescription[];
}

/** The bytes did not parse as the expected response. */
class KafkaProtocolError extends Error {
  override name = "KafkaProtocolError";
}

/** Big-endian writer for the few primitive types these requests use. */
class Writer {
  private readonly parts: Buffer[] = [];
  int8(value: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(value);
    this.parts.push(b);
    return this;
  }
  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }
  int32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    this.parts.push(b);
    return this;
  }
  string(value: string): this {
    const bytes = Buffer.from(value, "utf8");
    const length = Buffer.alloc(2);
    length.writeInt16BE(bytes.length);
    this.parts.push(length, bytes);
    return this;
  }
  stringArray(values: readonly string[]): this {
    this.int32(values.length);
    for (const value of values) this.string(value);
    return this;
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Big-endian reader that fails with {@link KafkaProtocolError} instead of reading past the end. */
class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}
  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length)
      throw new KafkaProtocolError(`response ends early (wanted ${bytes} bytes at offset ${this.offset})`);
  }
  int8(): number {
    this.need(1);
    const v = this.buffer.readInt8(this.offset);
    this.offset += 1;
    return v;
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  int16(): number {
    this.need(2);
    const v = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  nullableString(): string | null {
    const length = this.int16();
    if (length < 0) return null;
    this.need(length);
    const v = this.buffer.toString("utf8", this.offset, this.offset + length);
    this.offset += length;
    return v;
  }
  string(): string {
    return this.nullableString() ?? "";
  }
  bytes(): void {
    const length = this.int32();
    if (length < 0) return;
    this.need(length);
    this.offset += length;
  }
  array<T>(item: () => T): T[] {
    const count = this.int32();
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(item());
    return out;
  }
}

/**
 * Body of Metadata v5-v8 for `topics`: never auto-creates them; v8 asks for topic and cluster authorized operations.
 */
export function encodeMetadataRequest(topics: readonly string[], version = 8): Buffer {
  const w = new Writer().stringArray(topics).bool(false); // allow_auto_topic_creation: asking must not create
  if (version >= 8) w.bool(true).bool(true); // include_cluster_ and include_topic_authorized_operations
  return w.toBuffer();
}

/** Parses a Metadata v5-v8 response body (after the correlation id); below v8 operations are "not reported". */
export function decodeMetadataResponse(body: Buffer, version = 8): MetadataResponse {
  const r = new Reader(body);
  const throttleTimeMs = r.int32();
  const brokers = r.array(() => ({
    nodeId: r.int32(),
    host: r.string(),
    port: r.int32(),
    rack: r.nullableString(),
  }));
  const clusterId = r.nullableString();
  const controllerId = r.int32();
  const topics = r.array(() => {
    const errorCode = r.int16();
    const name = r.string();
    const isInternal = r.bool();
    const partitions = r.array(() => {
      r.int16(); // error_code
      r.int32(); // partition_index
      r.int32(); // leader_id
      if (version >= 7) r.int32(); // leader_epoch
      r.array(() => r.int32()); // replica_nodes
      r.array(() => r.int32()); // isr_nodes
      r.array(() => r.int32()); // offline_replicas
      return null;
    }).length;
    const authorized = version >= 8 ? r.int32() : OPERATIONS_NOT_REPORTED;
    return { name, errorCode, isInternal, partitions, authorizedOperations: authorized };
  });
  const clusterAuthorizedOperations = version >= 8 ? r.int32() : OPERATIONS_NOT_REPORTED;
  return { throttleTimeMs, brokers, clusterId, controllerId, topics, clusterAuthorizedOperations };
}

/** Body of DescribeGroups v0-v3 for `groups`; v3 asks for authorized operations. */
export function encodeDescribeGroupsRequest(groups: readonly string[], version = 3): Buffer {
  const w = new Writer().stringArray(groups);
  if (version >= 3) w.bool(true); // include_authorized_operations
  return w.toBuffer();
}

/** Parses a DescribeGroups v0-v3 response body (after the correlation id); below v3 operations are "not reported". */
export function decodeDescribeGroupsResponse(body: Buffer, version = 3): DescribeGroupsResponse {
  const r = new Reader(body);
  const throttleTimeMs = version >= 1 ? r.int32() : 0;
  const groups = r.array(() => {
    const errorCode = r.int16();
    const groupId = r.string();
    const state = r.string();
    r.string(); // protocol_type
    r.string(); // protocol_data
    const members = r.array(() => {
      r.string(); // member_id
      r.string(); // client_id
      r.string(); // client_host
      r.bytes(); // member_metadata
      r.bytes(); // member_assignment
      return null;
    }).length;
    const authorized = version >= 3 ? r.int32() : OPERATIONS_NOT_REPORTED;
    return { errorCode, groupId, state, members, authorizedOperations: authorized };
  });
  return { throttleTimeMs, groups };
}
