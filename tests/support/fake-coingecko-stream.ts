/**
 * A local stand-in for CoinGecko's WebSocket stream (CGSimplePrice on wss://stream.coingecko.com/v1), for tests
 * and benchmarks only: the documented exchange (code 3000 and a welcome on connect, subscribe and
 * confirm_subscription, the `message` command with action set_tokens answered with code 2000, unsubscribe),
 * updates with the keys c, i, vs, p, pp, m, v, t and fractional timestamps, sent when a test calls `emit`, and
 * fault modes: disconnects, refused connections, partial subscriptions, null fields and shuffled keys.
 */
import type { Server, ServerWebSocket } from "bun";

/** Fault modes of the fake. */
export interface FakeStreamFaults {
  /** set_tokens takes (and streams) only the first N coins asked for; the 2000 answer names those. Default off. */
  partialCoins?: number;
  /** Every update sends pp, m and v as null. Default false. */
  nullFields?: boolean;
  /** Every update's keys in a random order (CoinGecko documents "keys in random order"). Default false. */
  shuffledKeys?: boolean;
  /** Upgrades are refused with HTTP 503 (the stream is down) while true. Default false. */
  refuse?: boolean;
}

/** Options of {@link startFakeCoinGeckoStream}; all optional. */
export interface FakeStreamOptions {
  /** Default 0: a free port. */
  port?: number;
  /** When set, connections without this key (header x-cg-pro-api-key or query x_cg_pro_api_key) get HTTP 401. */
  requireKey?: string;
  /** Faults from the start; change them later with {@link FakeCoinGeckoStream.faults}. */
  faults?: FakeStreamFaults;
  /** Random in [0, 1) for shuffled keys. Default Math.random. */
  random?: () => number;
}

/** One update as a test emits it; fields left out get a plausible value, null sends null. */
export interface FakeUpdate {
  coin: string;
  /** Default "usd". */
  vs?: string;
  price: number | string | null;
  change24hPct?: number | null;
  marketCap?: number | null;
  volume24h?: number | null;
  /** Unix seconds, possibly fractional. Default: now, to the microsecond like CoinGecko's (1747808150.269067). */
  t?: number | null;
}

/** What the fake knows of one connection. */
export interface FakeStreamConnection {
  id: number;
  /** How the key came: "header", "query" or "none". */
  keyVia: "header" | "query" | "none";
  /** Every command received, parsed, oldest first. */
  commands: Record<string, unknown>[];
  subscribed: boolean;
  /** Coins and currencies set_tokens chose (after any partial fault). */
  coins: string[];
  currencies: string[];
  open: boolean;
}

/** A running fake stream. */
export interface FakeCoinGeckoStream {
  /** The URL to use as COINGECKO_STREAM_URL, e.g. "ws://127.0.0.1:41234/v1". */
  readonly url: string;
  /** Every connection ever accepted, oldest first. */
  readonly connections: FakeStreamConnection[];
  /** Live faults: assign fields to change them. */
  readonly faults: FakeStreamFaults;
  /** Upgrade requests refused (503 while `faults.refuse`, 401 for a bad key). */
  readonly refused: number;
  /** Emit times (performance.now() in this process) of every update sent, with what was sent. */
  readonly emits: { at: number; update: FakeUpdate; sentTo: number }[];
  /** Open connections with their tokens set (live subscribers). */
  subscribers(): FakeStreamConnection[];
  /**
   * Sends one update to every subscriber that chose its coin and currency; returns performance.now() at the send
   * and how many sockets got it.
   * @example const { at } = stream.emit({ coin: "bitcoin", vs: "usd", price: 91_000.5 });
   */
  emit(update: FakeUpdate): { at: number; sentTo: number };
  /** Closes every open socket from the server side (code 1011), as a dropped connection looks to the client. */
  disconnect(): void;
  stop(): Promise<void>;
}

const IDENTIFIER = JSON.stringify({ channel: "CGSimplePrice" });

interface SocketData {
  connection: FakeStreamConnection;
}

/**
 * Starts the fake stream on 127.0.0.1 (a free port by default), serving WebSocket upgrades on /v1.
 * @example
 * const stream = await startFakeCoinGeckoStream({ requireKey: "CG-pro" });
 * // COINGECKO_STREAM_URL=stream.url; then stream.emit({ coin: "bitcoin", price: 91_000 });
 */
export async function startFakeCoinGeckoStream(
  options: FakeStreamOptions = {},
): Promise<FakeCoinGeckoStream> {
  const random = options.random ?? Math.random;
  const faults: FakeStreamFaults = { ...options.faults };
  const connections: FakeStreamConnection[] = [];
  const sockets = new Map<number, ServerWebSocket<SocketData>>();
  const emits: FakeCoinGeckoStream["emits"] = [];
  let refused = 0;
  let nextId = 1;

  const send = (socket: ServerWebSocket<SocketData>, body: unknown) => socket.send(JSON.stringify(body));

  const onCommand = (socket: ServerWebSocket<SocketData>, text: string) => {
    const connection = socket.data.connection;
    let command: Record<string, unknown>;
    try {
      command = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    connection.commands.push(command);
    if (command.identifier !== IDENTIFIER) return;
    if (command.command === "subscribe") {
      connection.subscribed = true;
      send(socket, { type: "confirm_subscription", identifier: IDENTIFIER });
    } else if (command.command === "unsubscribe") {
      connection.subscribed = false;
      connection.coins = [];
      connection.currencies = [];
    } else if (command.command === "message" && connection.subscribed && typeof command.data === "string") {
      const data = JSON.parse(command.data) as {
        action?: string;
        coin_id?: string[];
        vs_currencies?: string[];
      };
      if (data.action !== "set_tokens" || !Array.isArray(data.coin_id)) return;
      const coins =
        faults.partialCoins === undefined ? data.coin_id : data.coin_id.slice(0, faults.partialCoins);
      connection.coins = coins;
      // vs_currencies defaults to usd, as documented.
      connection.currencies = data.vs_currencies?.length ? data.vs_currencies : ["usd"];
      send(socket, {
        code: 2000,
        message: `Subscribed to ${coins.join(", ")} in ${connection.currencies.join(", ")}`,
      });
    }
  };

  const server: Server<SocketData> = Bun.serve<SocketData>({
    port: options.port ?? 0,
    hostname: "127.0.0.1",
    fetch(request, srv) {
      const url = new URL(request.url);
      if (url.pathname.replace(/\/+$/, "") !== "/v1") return new Response("not found", { status: 404 });
      if (faults.refuse) {
        refused++;
        return new Response("stream unavailable", { status: 503 });
      }
      const header = request.headers.get("x-cg-pro-api-key");
      const query = url.searchParams.get("x_cg_pro_api_key");
      const keyVia = header !== null ? "header" : query !== null ? "query" : "none";
      if (options.requireKey !== undefined && (header ?? query) !== options.requireKey) {
        refused++;
        return new Response(
          JSON.stringify({ status: { error_code: 10002, error_message: "Invalid API Key" } }),
          {
            status: 401,
          },
        );
      }
      const connection: FakeStreamConnection = {
        id: nextId++,
        keyVia,
        commands: [],
        subscribed: false,
        coins: [],
        currencies: [],
        open: true,
      };
      if (srv.upgrade(request, { data: { connection } })) return undefined;
      return new Response("expected a WebSocket upgrade", { status: 426 });
    },
    websocket: {
      open(socket) {
        const { connection } = socket.data;
        connections.push(connection);
        sockets.set(connection.id, socket);
        const session = `fake-${connection.id}`;
        send(socket, { code: 3000, message: "Connection established", uuid: session });
        send(socket, { type: "welcome", sid: session });
      },
      message(socket, message) {
        onCommand(socket, typeof message === "string" ? message : Buffer.from(message).toString());
      },
      close(socket) {
        socket.data.connection.open = false;
        sockets.delete(socket.data.connection.id);
      },
    },
  });

  const subscribers = () => connections.filter((c) => c.open && c.subscribed && c.coins.length > 0);

  const payload = (update: FakeUpdate): string => {
    const t = update.t === undefined ? Math.round(Date.now() * 1000) / 1e6 : update.t;
    const entries: [string, unknown][] = [
      ["c", "C1"],
      ["i", update.coin],
      ["vs", update.vs ?? "usd"],
      ["p", update.price],
      ["pp", faults.nullFields ? null : update.change24hPct === undefined ? 1.42 : update.change24hPct],
      ["m", faults.nullFields ? null : update.marketCap === undefined ? 1.2e12 : update.marketCap],
      ["v", faults.nullFields ? null : update.volume24h === undefined ? 3.1e10 : update.volume24h],
      ["t", t],
    ];
    if (faults.shuffledKeys)
      for (let i = entries.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
      }
    return JSON.stringify(Object.fromEntries(entries));
  };

  return {
    url: `ws://127.0.0.1:${server.port}/v1`,
    connections,
    faults,
    get refused() {
      return refused;
    },
    emits,
    subscribers,
    emit(update) {
      const text = payload(update);
      const vs = update.vs ?? "usd";
      let sentTo = 0;
      const at = performance.now();
      for (const connection of subscribers()) {
        if (!connection.coins.includes(update.coin) || !connection.currencies.includes(vs)) continue;
        sockets.get(connection.id)?.send(text);
        sentTo++;
      }
      emits.push({ at, update, sentTo });
      return { at, sentTo };
    },
    disconnect() {
      for (const socket of sockets.values()) socket.close(1011, "fake: connection dropped");
    },
    async stop() {
      for (const socket of sockets.values()) socket.close(1001, "fake: stopping");
      await server.stop(true);
    },
  };
}
