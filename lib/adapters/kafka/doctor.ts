/**
 * Kafka checks: brokers reachable, credentials accepted, topic and dead-letter topic present, and the ACLs the
 * producer and consumer need — WRITE on the topic, READ on the topic, READ on the consumer group, WRITE on the
 * dead-letter topic.
 *
 * ACLs are read, never tried: the broker's own authorizer answers "which operations may this principal perform"
 * in Metadata v8 (topics) and DescribeGroups v3 (groups), see protocol.ts and acl-probe.ts. This writes nothing
 * to the topic (a real produce would land in history or the DLQ), joins no group (a join would rebalance the
 * running consumers), and needs no cluster DESCRIBE right (which DescribeAcls would, and app users lack).
 *
 * A missing topic (main or dead-letter) is a warning when the user may create it, because the producer and the
 * consumer create missing topics at start-up (ensureTopics); it is a failure otherwise, because they then exit.
 * "May create" is asked with CreateTopics validate_only, which creates nothing.
 */
import { readFileSync } from "node:fs";
import { type Check, type CheckGroup, fail, type Outcome, ok, skip, warn } from "../../checks/check.ts";
import { probeTcp, splitHostPort, type TcpProbe } from "../../checks/tcp.ts";
import { describeError } from "../../errors.ts";
import { type KafkaSession, openKafkaSession } from "./acl-probe.ts";
import { AclProbeError, classifyKafkaError, explainKafkaError, hasKafkaErrorType } from "./failures.ts";
import {
  type AclOperation,
  authorizedOperations,
  type GroupDescription,
  kafkaErrorName,
  type MetadataResponse,
  type TopicMetadata,
} from "./protocol.ts";
import type { KafkaSettings } from "./settings.ts";

/** Deadline of one bootstrap broker's TCP/TLS probe. */
const PROBE_TIMEOUT_MS = 5_000;

/** What the Kafka checks need from outside; replaced by fakes in unit tests. */
interface KafkaCheckDeps {
  probe: typeof probeTcp;
  openSession: (config: KafkaSettings) => KafkaSession;
  readCa: (path: string) => string;
}

const defaultDeps: KafkaCheckDeps = {
  probe: probeTcp,
  openSession: openKafkaSession,
  readCa: (path) => readFileSync(path, "utf8"),
};

/** The principal the broker sees: SASL users are `User:<name>`, unauthenticated clients `User:ANONYMOUS`. */
function kafkaPrincipal(config: KafkaSettings): string {
  return `User:${config.sasl?.username || "ANONYMOUS"}`;
}

/**
 * The fix for a missing ACL, naming the exact ACL and the rpk command that adds it.
 * @example aclFix("User:belly", "WRITE", "topic", "belly-price")
 */
export function aclFix(
  principal: string,
  operation: AclOperation,
  type: "topic" | "group",
  name: string,
): string {
  return (
    `add the ACL "ALLOW ${principal} ${operation} on ${type} ${name}" (Redpanda Console → Security → ACLs, or ` +
    `rpk security acl create --allow-principal ${principal} --operation ${operation.toLowerCase()} --${type} ${name})`
  );
}

function reachMessage(probes: TcpProbe[], tls: boolean): string {
  const up = probes.filter((p) => p.ok).map((p) => p.address);
  const how = tls ? "TLS" : "plain TCP";
  return probes.length === 1
    ? `reachable (${up[0]}, ${how})`
    : `reachable (${up.length}/${probes.length} bootstrap brokers, ${how}: ${up.join(", ")})`;
}

function probeFailure(probe: Extract<TcpProbe, { ok: false }>, config: KafkaSettings): Outcome {
  const where = probe.address;
  switch (probe.kind) {
    case "dns":
      return fail(`cannot resolve the host of ${where}`, "check the host names in KAFKA_BROKERS");
    case "refused":
      return fail(
        `nothing listens on ${where} (connection refused)`,
        "check the host and port in KAFKA_BROKERS, and that the broker runs",
      );
    case "timeout":
      return fail(
        `${where}: ${probe.detail}`,
        config.ssl
          ? "check KAFKA_BROKERS and firewalls; if this port is plain-text, set KAFKA_SSL=false"
          : "check KAFKA_BROKERS and firewalls",
      );
    case "tls-untrusted":
      return fail(
        `${where}: the broker's TLS certificate is not trusted (${probe.detail})`,
        config.caFile
          ? "KAFKA_CA_FILE does not hold the CA that signed the broker's certificate; point it at the right PEM"
          : "set KAFKA_CA_FILE to the PEM of the CA that signed the broker's certificate",
      );
    case "tls-name":
      return fail(
        `${where}: the broker's certificate does not name this host (${probe.detail})`,
        "use the host name the certificate was issued for in KAFKA_BROKERS",
      );
    case "tls-handshake":
      return fail(
        `${where}: TLS handshake failed (${probe.detail})`,
        "this port may be plain-text: set KAFKA_SSL=false, or use the broker's TLS port in KAFKA_BROKERS",
      );
    default:
      return fail(`${where}: ${probe.detail}`, "check KAFKA_BROKERS");
  }
}

/** Why the ACLs could not be read, as a warning rather than a guess. */
function cannotVerify(what: string, reason: string): Outcome {
  return warn(
    `${what}: cannot verify (${reason})`,
    "check the ACLs in Redpanda Console → Security → ACLs; the app reports a missing one at its first request",
  );
}

/**
 * The Kafka check group: reach → sign in → topic → WRITE/READ on topic → READ on group → DLQ → WRITE on DLQ.
 * @example const group = kafkaChecks(config.kafka);
 */
export function kafkaChecks(config: KafkaSettings, deps: Partial<KafkaCheckDeps> = {}): CheckGroup {
  const { probe, openSession, readCa } = { ...defaultDeps, ...deps };
  const principal = kafkaPrincipal(config);
  let session: KafkaSession | undefined;
  let metadata: MetadataResponse | undefined;
  let metadataProblem: string | undefined;

  /** A FAIL line in the words the producer and consumer would use for the same error. */
  const failed = (error: unknown, doing: string): Outcome => {
    const explained = explainKafkaError(error, config, doing);
    return fail(explained.message, explained.hint ?? "check the KAFKA_* settings");
  };
  const topicEntry = (topic: string): TopicMetadata | undefined =>
    metadata?.topics.find((t) => t.name === topic);

  const reach: Check = {
    id: "kafka.reach",
    title: "reach the brokers",
    async run() {
      const ca = config.ssl && config.caFile ? readCa(config.caFile) : undefined;
      const probes = await Promise.all(
        config.brokers.map((broker) =>
          probe({ ...splitHostPort(broker), tls: config.ssl, ca }, PROBE_TIMEOUT_MS),
        ),
      );
      const down = probes.filter((p): p is Extract<TcpProbe, { ok: false }> => !p.ok);
      const [first] = down;
      if (first && down.length === probes.length) return probeFailure(first, config);
      if (first)
        return warn(
          `${reachMessage(probes, config.ssl)}; ${first.address} is not (${first.detail})`,
          "remove or fix the unreachable entries of KAFKA_BROKERS",
        );
      return ok(reachMessage(probes, config.ssl));
    },
  };

  const signIn: Check = {
    id: "kafka.sign-in",
    title: config.sasl ? `sign in as ${config.sasl.username}` : "connect",
    needs: [reach.id],
    timeoutFix: config.ssl
      ? "check KAFKA_BROKERS and KAFKA_SASL_MECHANISM; a broker that never answers may want another port"
      : "check KAFKA_BROKERS; a TLS broker never answers a plain-text client: set KAFKA_SSL=true",
    async run() {
      session = openSession(config);
      try {
        await session.connect();
      } catch (error) {
        const sasl = config.sasl;
        const failure = classifyKafkaError(error, config);
        // The TCP probe just succeeded, so "cannot reach" here means the broker hung up on our first request,
        // which is what a TLS listener does to a plain-text client.
        if (failure?.kind === "unreachable" && !config.ssl)
          return fail(
            `${config.brokers.join(",")} accepted TCP but closed the Kafka connection: the broker probably wants TLS`,
            "set KAFKA_SSL=true (and KAFKA_CA_FILE if its certificate comes from a private CA)",
          );
        if (sasl && failure?.kind === "credentials")
          return fail(
            `credentials rejected for user "${sasl.username}" (${sasl.mechanism.toUpperCase()})`,
            failure.fix,
          );
        if (failure?.kind === "mechanism") return fail(failure.message, failure.fix);
        return failed(error, sasl ? "sign in" : "connect");
      }
      try {
        metadata = await session.metadata([config.topic, config.dlqTopic]);
      } catch (error) {
        if (!(error instanceof AclProbeError)) return failed(error, "read topic metadata");
        metadataProblem = error.message;
      }
      const who = config.sasl
        ? `signed in as "${config.sasl.username}" (${config.sasl.mechanism.toUpperCase()})`
        : "connected without SASL (KAFKA_USERNAME not set)";
      if (!metadata)
        return warn(
          `${who}, but cannot read topic metadata (${metadataProblem})`,
          "the topic and ACL checks below cannot run; check them in Redpanda Console",
        );
      const brokers = metadata.brokers.length;
      return ok(`${who}; the cluster has ${brokers} broker${brokers === 1 ? "" : "s"}`);
    },
  };

  const topicCheck = (id: string, topic: string, role: string): Check => ({
    id,
    title: `${role} ${topic}`,
    needs: [signIn.id],
    async run() {
      const entry = topicEntry(topic);
      if (!entry) return skip(`${role} ${topic} (not checked: no topic metadata)`);
      const name = kafkaErrorName(entry.errorCode);
      if (entry.errorCode === 0)
        return ok(
          `${role} ${topic} exists (${entry.partitions} partition${entry.partitions === 1 ? "" : "s"})`,
        );
      if (name === "TOPIC_AUTHORIZATION_FAILED")
        return fail(
          `${principal} may not see ${role} ${topic} (TOPIC_AUTHORIZATION_FAILED), so whether it exists is unknown`,
          `${aclFix(principal, "READ", "topic", topic)}; READ or WRITE also grants DESCRIBE`,
        );
      if (name !== "UNKNOWN_TOPIC_OR_PARTITION")
        return fail(
          `${role} ${topic}: the broker answered ${name}`,
          "check the cluster's health in Redpanda Console",
        );
      try {
        await session?.validateCreateTopic(topic);
      } catch (error) {
        const refused = hasKafkaErrorType(
          error,
          "TOPIC_AUTHORIZATION_FAILED",
          "CLUSTER_AUTHORIZATION_FAILED",
        );
        return fail(
          `${role} ${topic} does not exist${refused ? ` and ${principal} may not create it` : ` (and creating it would fail: ${describeError(error)})`}, so the producer and consumer stop at start-up`,
          `create ${topic} in Redpanda Console → Topics (or check KAFKA_TOPIC for a typo)`,
        );
      }
      return warn(
        `${role} ${topic} does not exist yet; the producer and consumer create it at start-up (${principal} may create topics)`,
        `create ${topic} yourself to choose partitions and retention, or check KAFKA_TOPIC for a typo`,
      );
    },
  });

  const topicAcl = (id: string, operation: "READ" | "WRITE", topic: string, who: string): Check => ({
    id,
    title: `${operation} on topic ${topic}`,
    needs: [signIn.id],
    async run() {
      const what = `${operation} on topic ${topic} (${who})`;
      const entry = topicEntry(topic);
      if (!entry) return cannotVerify(what, metadataProblem ?? "no topic metadata");
      if (kafkaErrorName(entry.errorCode) === "TOPIC_AUTHORIZATION_FAILED")
        return fail(
          `${principal} may not ${operation} topic ${topic} (${who})`,
          aclFix(principal, operation, "topic", topic),
        );
      const operations = authorizedOperations(entry.authorizedOperations);
      if (!operations) return cannotVerify(what, "the broker does not report authorized operations");
      if (operations.has(operation)) return ok(`${principal} may ${operation} topic ${topic} (${who})`);
      return fail(
        `${principal} may not ${operation} topic ${topic} (${who})`,
        aclFix(principal, operation, "topic", topic),
      );
    },
  });

  const groupRead: Check = {
    id: "kafka.group-read",
    title: `READ on group ${config.group}`,
    needs: [signIn.id],
    async run() {
      const what = `READ on consumer group ${config.group} (consumer)`;
      let group: GroupDescription;
      try {
        if (!session) throw new AclProbeError("no session");
        group = await session.describeGroup(config.group);
      } catch (error) {
        if (error instanceof AclProbeError) return cannotVerify(what, error.message);
        return failed(error, `describe group ${config.group}`);
      }
      const refused = () =>
        fail(
          `${principal} may not READ consumer group ${config.group} (consumer; it needs READ on the topic AND the group)`,
          aclFix(principal, "READ", "group", config.group),
        );
      if (kafkaErrorName(group.errorCode) === "GROUP_AUTHORIZATION_FAILED") return refused();
      if (group.errorCode !== 0)
        return fail(
          `group ${config.group}: the coordinator answered ${kafkaErrorName(group.errorCode)}`,
          "retry in a minute; if it persists, check the cluster's health",
        );
      const operations = authorizedOperations(group.authorizedOperations);
      if (!operations) return cannotVerify(what, "the broker does not report authorized operations");
      if (!operations.has("READ")) return refused();
      // Dead is how the coordinator describes a group it has never seen; Empty has offsets but no members.
      const state =
        group.state === "Dead"
          ? "no consumer has joined yet"
          : group.state === "Empty"
            ? "no consumer is running now"
            : `${group.state}, ${group.members} member${group.members === 1 ? "" : "s"}`;
      return ok(`${principal} may READ consumer group ${config.group} (consumer; ${state})`);
    },
  };

  return {
    subject: "kafka",
    checks: [
      reach,
      signIn,
      topicCheck("kafka.topic", config.topic, "topic"),
      topicAcl("kafka.topic-write", "WRITE", config.topic, "producer"),
      topicAcl("kafka.topic-read", "READ", config.topic, "consumer"),
      groupRead,
      topicCheck("kafka.dlq", config.dlqTopic, "dead-letter topic"),
      topicAcl("kafka.dlq-write", "WRITE", config.dlqTopic, "consumer's dead letters"),
    ],
    async close() {
      await session?.close();
    },
  };
}
