import { createHash } from "node:crypto";
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { HOST, PORTS, POSTGRES_APP } from "./config.ts";
import { isOurProcess, readPid, run, stopProcess, tailFile } from "./process.ts";
import type { Service, ServiceStatus, UpOutcome } from "./service.ts";
import { elapsed, isPortOpen, waitUntil } from "./wait.ts";

const READY_TIMEOUT_MS = 60_000;
const SUPERUSER = "postgres";
const APP_URL = `postgres://${POSTGRES_APP.user}:${POSTGRES_APP.password}@${HOST}:${PORTS.postgres}/${POSTGRES_APP.database}`;
/** Unix socket paths are limited to 107 bytes; keep a margin for `/.s.PGSQL.15432`. */
const MAX_SOCKET_DIR = 90;

const isRoot = () => process.getuid?.() === 0;

/** Directory of Debian's Postgres binaries, newest major first; `PG_BIN` overrides it. */
export function postgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined)
    throw new Error(`postgres: no initdb under ${base}/*/bin; run scripts/setup.sh`);
  return join(base, versions[0], "bin");
}

/**
 * `path` and every ancestor let others pass through (o+x), so the `postgres` OS user can reach it.
 * Folders not made yet are skipped: the stack creates them 0755.
 */
function traversableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}

/**
 * Where the cluster lives. Under the state dir when the `postgres` user can reach it (it cannot under a
 * private home such as /root), else in a per-state-dir folder under /tmp.
 */
export function postgresRoot(stateDir: string): string {
  const inState = join(stateDir, "postgres");
  const reachable = !isRoot() || traversableByOthers(stateDir);
  if (reachable && join(inState, "data").length <= MAX_SOCKET_DIR) return inState;
  const hash = createHash("sha256").update(stateDir).digest("hex").slice(0, 12);
  return join("/tmp", `belly-stream-pg-${hash}`);
}

/** Postgres refuses to run as root, so as root every server command runs as the `postgres` user. */
function asServerUser(cmd: string[]): string[] {
  return isRoot() ? ["runuser", "-u", SUPERUSER, "--", ...cmd] : cmd;
}

/** `select 1` as the app role on the app database. Default: each attempt gives up after 2 s. */
export async function postgresAnswers(url = APP_URL, timeoutSeconds = 2): Promise<boolean> {
  if (!(await isPortOpen(PORTS.postgres))) return false;
  const sql = new Bun.SQL(url, { max: 1, connectionTimeout: timeoutSeconds });
  try {
    const rows = await sql`select 1 as ok`;
    return rows[0]?.ok === 1;
  } catch {
    return false;
  } finally {
    await sql.close({ timeout: 0 }).catch(() => {});
  }
}

/**
 * Debian's PostgreSQL (15 on bookworm) in its own cluster on 127.0.0.1:15432 (plus any port offset), role and
 * database `belly`.
 */
export function postgresService(stateDir: string): Service {
  const root = postgresRoot(stateDir);
  const data = join(root, "data");
  const logFile = join(root, "postgres.log");
  // The postmaster's command line holds its data dir, which tells our cluster from any other.
  const needle = data;
  const ourPid = () => {
    const pid = readPid(join(data, "postmaster.pid"));
    return isOurProcess(pid, needle) ? pid : undefined;
  };
  const failure = (error: unknown) =>
    new Error(
      `${error instanceof Error ? error.message : error}\n--- tail of ${logFile} ---\n${tailFile(logFile)}`,
    );

  const initCluster = async (bin: string) => {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    if (isRoot()) {
      const { uid, gid } = await serverUserIds();
      chownSync(root, uid, gid);
    }
    await run(
      asServerUser([
        join(bin, "initdb"),
        `--pgdata=${data}`,
        `--username=${SUPERUSER}`,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
      ]),
    );
    // Appended settings win over initdb's defaults. Durability is traded for speed: this is test data.
    appendFileSync(
      join(data, "postgresql.conf"),
      [
        "",
        "# belly-stream local stack",
        `listen_addresses = '${HOST}'`,
        `port = ${PORTS.postgres}`,
        `unix_socket_directories = '${data}'`,
        "fsync = off",
        "synchronous_commit = off",
        "full_page_writes = off",
        "max_connections = 200",
        "",
      ].join("\n"),
    );
  };

  const bootstrap = async (bin: string) => {
    // Over the unix socket in the data dir, where initdb made local connections trusted.
    const psql = (...args: string[]) =>
      run([
        join(bin, "psql"),
        "--no-psqlrc",
        "--quiet",
        "--tuples-only",
        "--no-align",
        "--set=ON_ERROR_STOP=1",
        `--host=${data}`,
        `--port=${PORTS.postgres}`,
        `--username=${SUPERUSER}`,
        "--dbname=postgres",
        ...args,
      ]);
    await psql(
      `--command=DO $$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${POSTGRES_APP.user}') THEN
           CREATE ROLE ${POSTGRES_APP.user} LOGIN SUPERUSER PASSWORD '${POSTGRES_APP.password}';
         END IF;
       END $$;`,
    );
    // CREATE DATABASE cannot run inside DO, so check first.
    const exists = await psql(
      `--command=SELECT 1 FROM pg_database WHERE datname = '${POSTGRES_APP.database}'`,
    );
    if (exists.trim() !== "1") {
      await psql(`--command=CREATE DATABASE ${POSTGRES_APP.database} OWNER ${POSTGRES_APP.user}`);
    }
  };

  return {
    name: "postgres",
    async up(progress): Promise<UpOutcome> {
      const start = performance.now();
      if (await postgresAnswers()) return "reused";
      const bin = postgresBinDir();
      let pid = ourPid();
      if (pid === undefined) {
        if (await isPortOpen(PORTS.postgres)) {
          throw new Error(
            `postgres: port ${PORTS.postgres} is taken by a server this stack did not start, and ${POSTGRES_APP.user}@${POSTGRES_APP.database} cannot log in; free the port`,
          );
        }
        if (!existsSync(join(data, "PG_VERSION"))) {
          progress("postgres", `initdb in ${data}…`);
          rmSync(root, { recursive: true, force: true });
          await initCluster(bin);
        }
        progress("postgres", "starting…");
        try {
          // pg_ctl daemonizes the postmaster and, with --wait, returns once it accepts connections.
          await run(
            asServerUser([
              join(bin, "pg_ctl"),
              `--pgdata=${data}`,
              `--log=${logFile}`,
              // The port initdb wrote into postgresql.conf is the offset of that day; this one wins.
              `--options=-p ${PORTS.postgres}`,
              "--wait",
              "--timeout=60",
              "start",
            ]),
            { timeoutMs: READY_TIMEOUT_MS + 5000 },
          );
        } catch (error) {
          throw failure(error);
        }
        pid = ourPid();
      }
      try {
        await waitUntil("postgres", () => isPortOpen(PORTS.postgres), { timeoutMs: READY_TIMEOUT_MS });
        await bootstrap(bin);
        await waitUntil("postgres", () => postgresAnswers(), { timeoutMs: 10_000 });
      } catch (error) {
        throw failure(error);
      }
      progress("postgres", `ready in ${elapsed(start)} (${HOST}:${PORTS.postgres}, pid ${pid ?? "?"})`);
      return "started";
    },

    async down(wipe) {
      const pid = ourPid();
      let did = "not running";
      // SIGINT is Postgres' "fast" shutdown; SIGTERM ("smart") would wait for every client to leave.
      if (pid !== undefined)
        did = `${await stopProcess(pid, { needle, signal: "SIGINT", graceMs: 30_000 })} pid ${pid}`;
      else if (await isPortOpen(PORTS.postgres)) did = "left running (not started by this stack)";
      if (wipe) rmSync(root, { recursive: true, force: true });
      return did;
    },

    async status(): Promise<ServiceStatus> {
      return {
        name: "postgres",
        healthy: await postgresAnswers(),
        pid: ourPid(),
        detail: `${HOST}:${PORTS.postgres} (${data})`,
      };
    },
  };
}

/** Numeric uid and gid of the `postgres` OS user, created by Debian's postgresql package. */
async function serverUserIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run(["id", "-u", SUPERUSER]), run(["id", "-g", SUPERUSER])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}
