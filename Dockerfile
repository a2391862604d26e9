# syntax=docker/dockerfile:1.7
# The CodeForge runner image. Build from the repository root:
#   docker build -t codeforge-runner .
# Run (see docs/deployment.md for every setting, and for why each --security-opt is needed:
# every attempt's CLI runs in a bubblewrap sandbox of its own, which needs the namespace system
# calls and a fresh /proc):
#   docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
#     --security-opt systempaths=unconfined -e CODEFORGE_SANDBOX_CGROUP_LIMITS=false \
#     -e CODEFORGE_EDGE_URL=https://… -e CODEFORGE_RUNNER_SECRET=… codeforge-runner
# Check a host before trusting it: the same command with --check at the end.
# The entrypoint is the same command the tests and `npm start` use to start a runner.

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, at the exact versions package.json and package-lock.json name;
# tsx runs the TypeScript sources as they are. Nothing is installed with `npm install -g`.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:22-bookworm-slim
# bubblewrap: the per-attempt sandbox (the runner refuses to start without it unless sandbox: none).
# Versions pinned to Debian 12 (bookworm) main; docs/deployment.md lists what each is for. When a
# Debian point release replaces one, the build fails on it: look the new version up
# (`apt-cache policy <package>` in the base image) and update the pin and the docs together.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      git=1:2.39.5-0+deb12u3 \
      ca-certificates=20230311+deb12u1 \
      tini=0.19.0-1+b3 \
      bubblewrap=0.8.0-2+deb12u1 \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --create-home --home-dir /home/codeforge codeforge \
 && mkdir -p /workspaces && chown codeforge:codeforge /workspaces
ENV NODE_ENV=production \
    CODEFORGE_WORKSPACE_ROOT=/workspaces \
    CODEFORGE_HEALTH_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.base.json ./
COPY api ./api
COPY runner ./runner
USER codeforge
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--import", "tsx", "runner/src/main.ts"]
