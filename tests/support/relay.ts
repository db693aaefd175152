/**
 * A loopback TCP relay the tests control, put between a process and one of the stack's servers to fault the
 * link from outside: cut it (every connection closed, new ones refused), freeze it (sockets stay open, no
 * byte moves: what a dropped route looks like), slow it, and restore it. Listens on 127.0.0.1 only.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/** A running relay; `port` is where clients connect instead of the server's own port. */
export interface Relay {
  port: number;
  /** Closes every connection and refuses new ones until {@link Relay.restore}. */
  cut(): void;
  /** Stops moving bytes both ways, on open and new connections alike, without closing anything. */
  freeze(): void;
  /** Delays every chunk by `ms` in each direction. */
  slow(ms: number): void;
  /** Back to a plain relay; frozen sockets move their held bytes on. */
  restore(): void;
  /** Connections accepted so far (to check that a client really went through the relay). */
  readonly accepted: number;
  stop(): Promise<void>;
}

/**
 * Starts a relay to `target` on a free loopback port.
 * @example const relay = await startRelay({ host: "127.0.0.1", port: 15432 }); relay.freeze();
 */
export async function startRelay(target: { host: string; port: number }): Promise<Relay> {
  let mode: "open" | "cut" | "frozen" = "open";
  let delayMs = 0;
  let accepted = 0;
  const pairs = new Set<[Socket, Socket]>();

  const pipe = (from: Socket, to: Socket) => {
    from.on("data", (chunk) => {
      if (delayMs > 0) setTimeout(() => to.write(chunk), delayMs);
      else to.write(chunk);
    });
    from.on("close", () => to.destroy());
    from.on("error", () => to.destroy());
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (mode === "cut") {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.on("close", () => pairs.delete(pair));
    if (mode === "frozen") for (const socket of pair) socket.pause();
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("relay: no port");

  return {
    port: address.port,
    cut() {
      mode = "cut";
      for (const pair of pairs) for (const socket of pair) socket.destroy();
      pairs.clear();
    },
    freeze() {
      mode = "frozen";
      for (const pair of pairs) for (const socket of pair) socket.pause();
    },
    slow(ms) {
      delayMs = ms;
    },
    restore() {
      mode = "open";
      delayMs = 0;
      for (const pair of pairs) for (const socket of pair) socket.resume();
    },
    get accepted() {
      return accepted;
    },
    async stop() {
      for (const pair of pairs) for (const socket of pair) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
