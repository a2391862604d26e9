// Integration: `runner/bin/sandbox-init.mjs` as a real child process — the in-sandbox bridge from
// a loopback port to the egress proxy's Unix socket, and how it starts, waits for and reports
// the command it runs.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { freePort } from "../../scripts/local-stack.js";
import { LOOPBACK, useEgressTestbed } from "./harness/egress-proxy.js";

const SANDBOX_INIT = fileURLToPath(new URL("../../runner/bin/sandbox-init.mjs", import.meta.url));

const bed = useEgressTestbed();

describe("sandbox-init bridge", () => {
  it("bridges a loopback port to the proxy's Unix socket for the command it runs", async () => {
    const { proxy } = await bed.start({ pool: ["api.test.example:*"], allowedNetworks: LOOPBACK });
    const port = await freePort();
    const client = `
      const req = require("http").request({ host: "127.0.0.1", port: ${port}, path: "http://api.test.example:${bed.webPort}/through" }, (res) => {
        let body = ""; res.on("data", (d) => (body += d)); res.on("end", () => console.log(res.statusCode, JSON.parse(body).url));
      });
      req.end();`;
    const run = await runInit(proxy.socketPath, port, [process.execPath, "-e", client]);
    expect(run).toMatchObject({ code: 0, stdout: "200 /through\n" });
  });

  it("exits with the command's code", async () => {
    expect((await runInit(path.join(bed.dir, "none.sock"), await freePort(), ["sh", "-c", "exit 3"])).code).toBe(3);
  });

  it("exits 128 + the signal when a signal killed the command", async () => {
    expect((await runInit(path.join(bed.dir, "none.sock"), await freePort(), ["sh", "-c", "kill -KILL $$"])).code).toBe(137);
  });

  it("exits 127 with one line on stderr when the command cannot be started", async () => {
    const run = await runInit(path.join(bed.dir, "none.sock"), await freePort(), ["/nonexistent/cli", "-p"]);
    expect(run).toMatchObject({ code: 127, stderr: "sandbox-init: cannot start /nonexistent/cli: ENOENT\n" });
  });

  it("outlives SIGTERM to the process group and keeps bridging while the command shuts down", async () => {
    const socketPath = path.join(bed.dir, "echo.sock");
    const unixEcho = net.createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => unixEcho.listen(socketPath, resolve));
    const port = await freePort();
    // On SIGTERM it waits, then uses the bridge once more, and only then exits 0.
    const cli = `
      process.on("SIGTERM", () => setTimeout(() => {
        const s = require("net").connect(${port}, "127.0.0.1");
        let got = ""; s.on("data", (d) => (got += d));
        s.on("close", () => { console.log("echo: " + got); process.exit(0); });
        s.end("goodbye");
      }, 100));
      console.log("ready");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, [SANDBOX_INIT, "--proxy-socket", socketPath, "--listen", String(port), "--", process.execPath, "-e", cli], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    while (!stdout.includes("ready")) await once(child.stdout, "data");
    process.kill(-child.pid!, "SIGTERM");
    const [code] = (await once(child, "exit")) as [number | null];
    unixEcho.close();
    expect(code).toBe(0);
    expect(stdout).toBe("ready\necho: goodbye\n");
  });

  it("with --wait-fd, starts the command only on the runner's word, and never when the pipe closes without one", async () => {
    const marker = path.join(bed.dir, `started-${Date.now()}`);
    const launch = async () =>
      spawn(
        process.execPath,
        [
          SANDBOX_INIT,
          "--proxy-socket",
          path.join(bed.dir, "none.sock"),
          "--listen",
          String(await freePort()),
          "--wait-fd",
          "3",
          "--",
          "sh",
          "-c",
          `echo started; touch ${marker}`,
        ],
        { stdio: ["ignore", "pipe", "pipe", "pipe"] },
      );
    const waiting = await launch();
    let out = "";
    waiting.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(out).toBe("");
    (waiting.stdio[3] as NodeJS.WritableStream).end("go");
    const [code] = (await once(waiting, "close")) as [number | null];
    expect(code).toBe(0);
    expect(out).toBe("started\n");
    rmSync(marker, { force: true });

    const abandoned = await launch();
    let err = "";
    abandoned.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    (abandoned.stdio[3] as NodeJS.WritableStream).end();
    const [abandonedCode] = (await once(abandoned, "close")) as [number | null];
    expect(abandonedCode).toBe(125);
    expect(err).toContain("ended the attempt before the command started");
    expect(existsSync(marker)).toBe(false);
  });
});

async function runInit(socketPath: string, port: number, command: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SANDBOX_INIT, "--proxy-socket", socketPath, "--listen", String(port), "--", ...command], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}
