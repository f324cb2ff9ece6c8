# ts-nacos as a container image, read as the nacos/nacos-server image is: MODE (standalone or cluster),
# NACOS_SERVERS (members, space- or comma-separated), NACOS_APPLICATION_PORT, and every ts-nacos variable
# (README, "Configuration"). Data lives in the /home/nacos/data volume; a cluster.conf mounted at
# /home/nacos/conf/cluster.conf is read as Nacos reads it.
#
#   docker build -t ts-nacos .
#   docker run -p 8848:8848 -p 9848:9848 -e MODE=standalone ts-nacos
#
# NODE_IMAGE is any Debian-based image with Node.js >= 20.18 and npm at /usr/local/bin (the official node images);
# a machine without a registry passes a local one (README, "A container image").
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: every dependency (TypeScript), then the compiled node in dist/. Install scripts are not needed to
# compile (gen/ is committed; buf and esbuild are for proto checks and tests).
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY gen ./gen
RUN npm run -s build

# Runtime: production dependencies, the compiled node and the console, owned by root (read-only to the node).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NACOS_HOME=/home/nacos
WORKDIR /opt/ts-nacos
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY console ./console
# A fixed uid/gid (10001) that Kubernetes' runAsUser/fsGroup can name (deploy/k8s/nacos.yaml).
RUN groupadd --system --gid 10001 nacos \
    && useradd --system --uid 10001 --gid nacos --home-dir /home/nacos --create-home --shell /usr/sbin/nologin nacos \
    && mkdir -p /home/nacos/data /home/nacos/conf \
    && chown nacos:nacos /home/nacos/data
USER nacos
WORKDIR /home/nacos
VOLUME ["/home/nacos/data"]
# HTTP (clients, console, probes), Nacos 2.x clients (HTTP + 1000), gRPC peers (HTTP + 1001).
EXPOSE 8848 9848 9849
# Liveness: the process answers HTTP. Readiness (/nacos/v1/console/health/readiness) is for orchestrators that
# route traffic; a node still loading its registry from peers is alive and must not be restarted. It asks the
# port the variables name (a --port flag after the image name needs --health-cmd to match).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "const p=process.env.NACOS_SERVER_PORT||process.env.NACOS_APPLICATION_PORT||8848;fetch(`http://127.0.0.1:${p}/nacos/v1/console/health/liveness`).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and gets the SIGTERM of `docker stop` itself; it stops gracefully (readiness 503, 2.x
# clients moved, in-flight requests and pending replication finished) within 2 x --shutdown-timeout-ms + 5 s, so
# give `docker stop -t 20` / terminationGracePeriodSeconds >= 20 with the default 5 s. Flags go after the image.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "/opt/ts-nacos/dist/src/main.js"]
