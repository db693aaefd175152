// The doctor's Kafka ACL probe (lib/adapters/kafka/acl-probe.ts) drives kafkajs internals that no semver
// protects: the Kafka object's "private:Kafka:createCluster" factory, the cluster and its broker pool, a broker's
// `versions`, `findGroupCoordinator` and `connectionPool.send`, and the request/response contract behind `send`.
// This inspects each of them without a broker, so that a kafkajs upgrade that moves one fails here, naming the
// version and the internal, instead of turning the doctor's ACL lines into "ACL check unavailable" in the field.
import { describe, expect, test } from "bun:test";
import { Kafka, logLevel } from "kafkajs";
import kafkajsPackage from "kafkajs/package.json";

type Loose = Record<string | symbol, unknown>;

/** Fails with a message naming the kafkajs version and the internal that is gone. */
function need(present: boolean, internal: string): void {
  if (!present)
    throw new Error(
      `kafkajs ${kafkajsPackage.version} changed: ${internal} is missing, and lib/adapters/kafka/acl-probe.ts relies on it`,
    );
}

const isFunction = (holder: unknown, name: string) =>
  typeof holder === "object" && holder !== null && typeof (holder as Loose)[name] === "function";

/** A cluster as the probe builds it: the private factory, no auto-creation, nothing connected. */
function cluster(): Loose {
  const kafka = new Kafka({
    clientId: "internals-test",
    brokers: ["127.0.0.1:9"],
    logLevel: logLevel.NOTHING,
  });
  const key = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === "private:Kafka:createCluster",
  );
  const create = key === undefined ? undefined : (kafka as unknown as Loose)[key];
  need(typeof create === "function", 'the Kafka object\'s "private:Kafka:createCluster" factory');
  return (create as (options: object) => Loose)({ allowAutoTopicCreation: false });
}

describe(`kafkajs ${kafkajsPackage.version} internals used by the doctor's ACL probe`, () => {
  test("the cluster factory builds a cluster with the methods the probe calls", () => {
    const built = cluster();
    for (const method of ["connect", "disconnect", "refreshMetadata", "findBroker"])
      need(isFunction(built, method), `Cluster#${method}()`);
    const pool = built.brokerPool;
    need(typeof pool === "object" && pool !== null && "seedBroker" in pool, "Cluster#brokerPool.seedBroker");
  });

  test("the seed broker that connect() builds has versions, findGroupCoordinator and connectionPool.send", async () => {
    const pool = cluster().brokerPool as Loose;
    // Cluster#connect() starts with this step, which builds the seed broker without any I/O.
    need(isFunction(pool, "createSeedBroker"), "BrokerPool#createSeedBroker()");
    await (pool.createSeedBroker as () => Promise<void>).call(pool);
    const seed = pool.seedBroker as Loose;
    need("versions" in seed, "Broker#versions");
    need(isFunction(seed, "findGroupCoordinator"), "Broker#findGroupCoordinator()");
    need(isFunction(seed.connectionPool, "send"), "Broker#connectionPool.send()");
    const [connection] = ((seed.connectionPool as Loose).pool ?? []) as Loose[];
    const send = String(connection?.send);
    need(
      send.includes("response.decode(") && send.includes("response.parse("),
      "Connection#send()'s response.decode(raw) then response.parse(decoded)",
    );
    need(send.includes("logResponseError"), "Connection#send()'s logResponseError option");
  });

  test("a request object's encode() result is framed as the probe expects ({ buf, buffer })", async () => {
    const path = "kafkajs/src/protocol/request.js";
    const module = (await import(path)) as { default?: unknown };
    const createRequest = (module.default ?? module) as (args: object) => Promise<{ buffer: Buffer }>;
    need(typeof createRequest === "function", "src/protocol/request.js (the request framing)");
    const body = Buffer.from([1, 2, 3]);
    const framed = await createRequest({
      correlationId: 7,
      clientId: "ab",
      request: { apiKey: 3, apiVersion: 8, encode: async () => ({ buf: body, buffer: body }) },
    });
    // size 15, api key 3, version 8, correlation id 7, client id "ab", then the body as given.
    expect([...framed.buffer]).toEqual([0, 0, 0, 15, 0, 3, 0, 8, 0, 0, 0, 7, 0, 2, 97, 98, 1, 2, 3]);
  });
});
