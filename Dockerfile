# Runtime image for both process groups (fly.toml picks the command per group).
FROM oven/bun:1.4.5-slim
WORKDIR /app
COPY package.json package-lock.json bunfig.toml ./
RUN bun install --production --frozen-lockfile --ignore-scripts
COPY tsconfig.json producer.ts consumer.ts ./
COPY lib ./lib
COPY supabase ./supabase
USER bun
CMD ["bun", "run", "consumer.ts"]
