# syntax=docker/dockerfile:1
# One single-file executable on a distroless base: no Bun, no node_modules, no shell in the runtime image.
# It takes its role as its first argument; fly.toml picks it per process group (/app/belly producer,
# /app/belly consumer); the default CMD is the consumer. One executable for every role: two would each carry
# the same ~100 MB Bun runtime. Build: `docker build -t belly-stream .`; the binaries match the builder's architecture.

# --- build: install the runtime dependencies and compile both entries -------------------------------------
FROM oven/bun:1.4.5 AS build
WORKDIR /src

# The project locks with npm's package-lock.json; Bun 1.4 reads it in memory under --frozen-lockfile (and fails
# when package.json disagrees with it), so the versions are exactly those `npm ci` would install.
# Dev dependencies (TypeScript, Biome, the bun npm package) are not needed: Bun.build only bundles runtime code.
COPY package.json package-lock.json bunfig.toml ./
RUN --mount=type=cache,target=/root/.bun/install/cache \
    bun install --production --frozen-lockfile --ignore-scripts

COPY tsconfig.json producer.ts consumer.ts ./
COPY lib ./lib
COPY supabase ./supabase
COPY scripts/build.ts scripts/belly.ts scripts/migrate.ts scripts/doctor.ts ./scripts/
RUN bun run scripts/build.ts --outdir /out

# Smoke test away from the sources: given nothing but a bad LOG_LEVEL, each role must start and stop at
# config validation (exit 2), which proves the binary carries its runtime and every module each role imports.
RUN mkdir -p /out/data /smoke && cd /smoke && \
    for role in producer consumer migrate doctor; do \
      code=0; env -i LOG_LEVEL=smoke-test /out/belly "$role" >/dev/null 2>&1 || code=$?; \
      if [ "$code" -ne 2 ]; then echo "belly $role exited $code on a config error, expected 2"; exit 1; fi; \
    done

# --- runtime: glibc, CA certificates, tzdata and a non-root user (uid 65532), nothing else -------------------
FROM gcr.io/distroless/base-debian12:nonroot
WORKDIR /app
COPY --from=build /out/belly /app/
# A writable place for the SQLite history of the zero-infrastructure mode (mount a volume here to keep it).
COPY --from=build --chown=nonroot:nonroot /out/data /app/data

# Inside a container the servers must be reachable from outside it; local runs default to 127.0.0.1.
ENV PORT=8080 HOST=0.0.0.0
EXPOSE 8080
# The consumer finishes or abandons its batch, uncommitted, on SIGTERM; fly.toml sends the same signal.
STOPSIGNAL SIGTERM
USER nonroot
CMD ["/app/belly", "consumer"]
