/**
 * A real git server over HTTPS on loopback, standing in for a git host: `git http-backend` run
 * as CGI behind `node:https`, with a certificate made for the test (`openssl`), so the runner's
 * git reaches it as it reaches any https host (pinned address, no redirects, askpass).
 *
 * Repositories under `private/` answer only a request carrying `x-access-token:<token>` as
 * basic auth (401 otherwise, as GitHub does); those under `public/` answer anyone. Every
 * request is recorded with what the server sent back, so a test can tell how much a clone
 * fetched. `bytesPerSecond` paces what it sends, like a link to a git host would (the
 * benchmark's remote); unset, it sends as fast as loopback goes.
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";

/** The host name the server's certificate is for; resolve it to 127.0.0.1 with a test lookup. */
export const GIT_HTTPS_HOST = "git.test";

export interface GitRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** Bytes of the response body. */
  bytes: number;
  authorized: boolean;
}

export interface GitHttpsServer {
  /** `https://git.test:<port>`. */
  origin: string;
  port: number;
  /** The certificate, as a CA bundle for git (`http.sslCAInfo`). */
  caFile: string;
  /** Where the bare repositories are (`<root>/private/…`, `<root>/public/…`). */
  root: string;
  requests: GitRequest[];
  close(): Promise<void>;
}

/**
 * @example
 * const server = await startGitHttpsServer({ token: "ghs_…" });
 * // https://git.test:<port>/private/app.git, with lookup git.test → 127.0.0.1
 */
export async function startGitHttpsServer(options: { token: string; bytesPerSecond?: number }): Promise<GitHttpsServer> {
  const root = mkdtempSync(path.join(os.tmpdir(), "codeforge-git-https-"));
  const certDir = path.join(root, "tls");
  mkdirSync(certDir);
  const key = path.join(certDir, "key.pem");
  const cert = path.join(certDir, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      `/CN=${GIT_HTTPS_HOST}`,
      "-addext",
      `subjectAltName=DNS:${GIT_HTTPS_HOST}`,
    ],
    { stdio: "ignore" },
  );
  const expected = `Basic ${Buffer.from(`x-access-token:${options.token}`).toString("base64")}`;
  const requests: GitRequest[] = [];

  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://localhost");
    const authorized = req.headers.authorization === expected;
    const record: GitRequest = { method: req.method ?? "GET", path: url.pathname, query: url.search.slice(1), status: 200, bytes: 0, authorized };
    requests.push(record);
    if (url.pathname.startsWith("/private/") && !authorized) {
      record.status = 401;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"', "Content-Type": "text/plain" });
      res.end("authentication required\n");
      return;
    }
    const cgi = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        HTTP_CONTENT_ENCODING: req.headers["content-encoding"] ?? "",
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        REMOTE_ADDR: "127.0.0.1",
        REMOTE_USER: authorized ? "x-access-token" : "",
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    const started = performance.now();
    const pace = () => {
      if (!options.bytesPerSecond) return;
      const aheadMs = (record.bytes / options.bytesPerSecond) * 1_000 - (performance.now() - started);
      if (aheadMs < 5) return;
      cgi.stdout.pause();
      setTimeout(() => cgi.stdout.resume(), aheadMs);
    };
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        record.bytes += chunk.length;
        res.write(chunk);
        pace();
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      const status = Number((headers.Status ?? "200").split(" ")[0]);
      delete headers.Status;
      record.status = status;
      res.writeHead(status, headers);
      const body = head.subarray(end + 4);
      record.bytes += body.length;
      res.write(body);
    });
    cgi.on("close", () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://${GIT_HTTPS_HOST}:${port}`,
    port,
    caFile: cert,
    root,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Makes `<root>/<name>` a bare repository holding a copy of `source`'s branches; returns its URL. */
export function serveRepository(server: GitHttpsServer, name: string, sourceBare: string): string {
  const target = path.join(server.root, name);
  execFileSync("git", ["clone", "--quiet", "--bare", "--", sourceBare, target], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
    stdio: "ignore",
  });
  return `${server.origin}/${name}`;
}
