# syntax=docker/dockerfile:1
# Kotak: SMTP 1025, HTTP 8025 (POP3 1110 when KOTAK_POP3 is set), data in the /data volume.

# Build stage: compiles TypeScript and the native sqlite3 driver.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts \
 && npm rebuild sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY bin ./bin
COPY web ./web
RUN npm run build \
 && npm prune --omit=dev

# Runtime stage: only what runs, as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    KOTAK_SMTP=0.0.0.0:1025 \
    KOTAK_HTTP=0.0.0.0:8025 \
    KOTAK_DB=/data/kotak.db
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/web ./web
# `sendmail` inside the container is Kotak's sendmail-compatible command (docker exec ... sendmail -t).
RUN mkdir -p /data && chown node:node /data \
 && printf '#!/bin/sh\nexec node /app/bin/kotak.js sendmail "$@"\n' > /usr/local/bin/sendmail \
 && chmod 755 /usr/local/bin/sendmail
USER node
VOLUME ["/data"]
EXPOSE 1025 8025 1110
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8025/livez').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "bin/kotak.js"]
