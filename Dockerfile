# Veralux voice runtime: multi-stage image.
#   build   – installs every dependency and compiles TypeScript (tsc + scripts/copy-assets.js → dist/)
#   runtime – production dependencies + dist/ only, runs as the unprivileged `node` user
#
#   docker build -t veralux/runtime .
#   docker compose up --build          (runtime + Redis, see docker-compose.yml and docs/operations.md)

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Dependencies first so this layer is cached until package*.json change. .npmrc carries the
# project's npm settings (ignore-scripts: no install script runs, so nothing is downloaded at install,
# e.g. onnxruntime-node's optional binaries; no audit/fund); the lockfile lists every platform's
# optional binaries (scripts/fill-lockfile-platforms.js), so `npm ci` works here.
COPY package.json package-lock.json .npmrc ./
RUN npm ci

COPY tsconfig*.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# production: the runtime refuses example and short secrets and requires METRICS_TOKEN (see
# .env.example). docker-compose.yml pins it too, so a NODE_ENV line in .env cannot lower it.
ENV NODE_ENV=production \
    PORT=3000 \
    AUDIO_STORAGE_DIR=/var/lib/veralux/audio
WORKDIR /app

# libopencore-amrwb0: the AMR-WB decoder (loaded with koffi). Without it AMR-WB streams are
# re-requested in PCMU and a warning is logged at boot.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libopencore-amrwb0 \
    && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force

COPY --from=build /app/dist ./dist

# Writable places for the unprivileged user: the audio store (mounted as a volume by
# docker-compose.yml) and ./.tmp, where .env.example puts STT_DEBUG_DIR / AMRWB_DEBUG_DIR.
# The code itself (/app, dist, node_modules) stays root-owned and read-only to the process.
RUN mkdir -p /var/lib/veralux/audio /app/.tmp \
    && chown node:node /var/lib/veralux/audio /app/.tmp

USER node
EXPOSE 3000

# main.ts handles SIGTERM: /health/ready 503, live calls handed to another instance (or served here up to
# DRAIN_TIMEOUT_MS), then in-flight jobs finished and Redis closed within SHUTDOWN_TIMEOUT_MS; exit 0.
# The orchestrator's grace period must cover both (compose: 135 s).
STOPSIGNAL SIGTERM

# Liveness probe with node (the slim image has no curl). A PROCESS_ROLE=worker container runs no
# HTTP server, so the probe passes trivially there.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "if (process.env.PROCESS_ROLE === 'worker') process.exit(0); require('http').get('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).setTimeout(4000, function () { this.destroy(new Error('timeout')); });"]

CMD ["node", "dist/main.js"]
