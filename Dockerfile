# syntax=docker/dockerfile:1
# Kotak: SMTP 1025, HTTP 8025 (POP3 1110 when KOTAK_POP3 is set, IMAP 1143 when KOTAK_IMAP is set), data in the /data volume.
# Node 24: an LTS line maintained until April 2028 (Node 20, which the package still supports, left
# maintenance in April 2026). Configure Kotak through KOTAK_* variables rather than flags, so
# that the HEALTHCHECK (which reads the same variables) asks the right port and base path.

# Build stage: compiles TypeScript, the web inbox and the native sqlite3 driver.
FROM node:24-trixie-slim AS build
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

# Runtime stage: only what runs (no TypeScript or web sources), as an unprivileged user.
FROM node:24-trixie-slim
ENV NODE_ENV=production \
    KOTAK_SMTP=0.0.0.0:1025 \
    KOTAK_HTTP=0.0.0.0:8025 \
    KOTAK_DB=/data/kotak.db
WORKDIR /app
COPY LICENSE ./
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/web/dist ./web/dist
# `sendmail` inside the container is Kotak's sendmail-compatible command (docker exec ... sendmail -t).
RUN mkdir -p /data && chown node:node /data \
 && printf '#!/bin/sh\nexec node /app/bin/kotak.js sendmail "$@"\n' > /usr/local/bin/sendmail \
 && chmod 755 /usr/local/bin/sendmail
USER node
VOLUME ["/data"]
EXPOSE 1025 8025 1110 1143
# Asks /livez at the address and base path KOTAK_HTTP and KOTAK_HTTP_BASE_PATH give (src/healthcheck.ts).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/kotak.js"]
