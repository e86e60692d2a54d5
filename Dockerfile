# syntax=docker/dockerfile:1
#
# The TMS images: one Dockerfile, a target per app. Build context: the repository root.
#
#   podman build --format docker --target api    -t tms/api:<tag> .
#   podman build --format docker --target worker -t tms/worker:<tag> .
#
# `npm run images` builds both (with a local base image where no registry is reachable).
# The runtime images hold the app's build, its libs' builds and its production dependencies,
# nothing else: no TypeScript, no tests, no dev tools (scripts/images/test/cluster checks them).

# Any image with Node 24 at /usr/local/bin/node, npm, and a user `node` (uid 1000).
ARG NODE_IMAGE=docker.io/library/node:24-bookworm-slim

# ---- build: every dependency, then the apps' builds ----
FROM ${NODE_IMAGE} AS build
ENV CI=true TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false
WORKDIR /src
COPY . .
# The only steps that reach the network: npm's. Where the network passes through a proxy with its
# own certificate authority, `npm run images` hands the host's CA bundle in as a build secret
# (mounted for the step only, in no layer).
RUN --mount=type=secret,id=ca-certificates \
    if [ -f /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi \
 && npm ci \
 && npx turbo run build --filter=@tms/api... --filter=@tms/worker... --filter=@tms/web --output-logs=errors-only

# ---- each app's runtime tree in /out: production dependencies and builds only ----
FROM build AS api-files
RUN --mount=type=secret,id=ca-certificates \
    if [ -f /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi \
 && sh deploy/images/runtime-tree.sh api /out \
 && mkdir -p /out/apps/web && cp -r apps/web/dist /out/apps/web/

FROM build AS worker-files
RUN --mount=type=secret,id=ca-certificates \
    if [ -f /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi \
 && sh deploy/images/runtime-tree.sh worker /out

# ---- the runtime images ----
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.vendor="TMS" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV NODE_ENV=production APP_VERSION=${VERSION} HOST=0.0.0.0
# Owned by root and not writable by the app's user: the app changes nothing on disk, and the
# platforms run it on a read-only root filesystem anyway.
WORKDIR /app

FROM runtime AS api
LABEL org.opencontainers.image.title="tms-api" \
      org.opencontainers.image.description="TMS API and the packing-station web app"
COPY --from=api-files /out/ /app/
WORKDIR /app/apps/api
ENV PORT=3000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
USER node
# Exec form: node is PID 1 and receives the platform's SIGTERM itself (no shell, no npm).
CMD ["node", "dist/main.js"]

FROM runtime AS worker
LABEL org.opencontainers.image.title="tms-worker" \
      org.opencontainers.image.description="TMS job worker"
COPY --from=worker-files /out/ /app/
WORKDIR /app/apps/worker
ENV WORKER_HEALTH_PORT=3001
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WORKER_HEALTH_PORT||3001)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
USER node
CMD ["node", "dist/main.js"]
