# syntax=docker/dockerfile:1
# The pika image: one executable, `pika server` (default) or `pika operator`.
#
#   docker build -t pika:0.1.0 .
#   docker run --rm -p 8080:8080 -v pika-data:/data --read-only pika:0.1.0
#   docker run --rm pika:0.1.0 operator          # in a cluster: see ci/kubernetes, charts/pika
#
# Runtime: non-root numeric user 10001, nothing written outside /data (the store, a volume), so the
# container runs with a read-only root filesystem. Configuration: PIKA_* variables (README.md) or
# `server --config FILE` with a mounted file; /healthz answers 200 whenever the process serves,
# locked or not.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: dev dependencies, tsc (dist/) and the console (web/dist/) -------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; classic-level ships
# prebuilt binaries (package.json `allowScripts` keeps its install script off everywhere).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
RUN npm run build

# --- production dependencies only ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="pika" \
      org.opencontainers.image.description="Configuration server, secrets manager and personal vault, with a Kubernetes operator" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    PIKA_SERVER_HOST=0.0.0.0 \
    PIKA_STORAGE_PATH=/data/pika
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/web/dist ./web/dist
# The only writable place. Owned by the runtime user so that a fresh named volume (which Docker
# seeds from the image) is writable; in Kubernetes the pod's fsGroup does the same for the PVC.
RUN mkdir -p /data && chown 10001:10001 /data && chmod 0750 /data
USER 10001:10001
VOLUME ["/data"]
# 8080: API, console, /data, /eso. 8081: server.public_port (/data, /eso, /healthz only) when
# PIKA_SERVER_PUBLIC_PORT is set, and the operator's /healthz, /readyz, /metrics.
EXPOSE 8080 8081
ENTRYPOINT ["node", "bin/pika.js"]
CMD ["server"]
