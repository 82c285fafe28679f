# Meridian's container image: the compiled build on a distroless Node 22, non-root, read-only root.
#   docker build -t meridian:0.1.0 .
# Standalone (the file store): the manifests and the admin tokens in two read-only mounts, /tmp writable.
#   docker run --read-only --tmpfs /tmp -p 8080:8080 -p 9181:9181 \
#     -v $PWD/fleet:/etc/meridian/manifests:ro -v $PWD/admin:/etc/meridian/admin:ro meridian:0.1.0
# The listeners are on the container's interfaces, and off loopback the admin listener refuses to start without
# tokens: $PWD/admin/tokens holds them (one `name:token` a line, mode 0640 or tighter). Another path: set
# MERIDIAN_ADMIN_TOKEN_FILE. Kubernetes: charts/meridian (it runs `start --store kubernetes`); docs/kubernetes.md.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No lifecycle scripts: the test-only system packages (.ci/install-deps.sh) are not wanted in an image.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts && mkdir -p /state

FROM gcr.io/distroless/nodejs22-debian12:nonroot
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY examples ./examples
COPY manifests ./manifests
# distroless has no shell to make it: an empty directory owned by nonroot (65532).
COPY --from=build --chown=65532:65532 /state /var/lib/meridian
# Listen on the container's interfaces, with the admin tokens where the examples above and the chart mount them;
# state (when the file store is used) under /var/lib/meridian, a volume.
ENV NODE_ENV=production MERIDIAN_PUBLIC_ADDR=0.0.0.0:8080 MERIDIAN_ADMIN_ADDR=0.0.0.0:9181 \
    MERIDIAN_ADMIN_TOKEN_FILE=/etc/meridian/admin/tokens MERIDIAN_STATE_DIR=/var/lib/meridian
VOLUME /var/lib/meridian
# Public login listener and admin listener (/metrics, /healthz, /readyz, the API).
EXPOSE 8080 9181
USER nonroot
# Node is PID 1: `meridian start` handles SIGTERM itself (stops its loops, closes its listeners).
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "/app/bin/meridian.js"]
CMD ["start", "--manifests", "/etc/meridian/manifests"]
