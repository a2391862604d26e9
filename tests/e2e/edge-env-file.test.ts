// What `startEdge` writes for `wrangler dev --env-file` (scripts/local-stack.ts's envFileText),
// read back by the real wrangler dev: a Worker of three lines answers with the values it was
// given. Multi-line PEM keys, `$`, `#`, quotes and JSON must reach the Worker unchanged.
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { envFileText, freePort, PROJECT_ROOT } from "../../scripts/local-stack.js";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

const VALUES: Record<string, string> = {
  PKCS1_PEM: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  PKCS8_PEM: privateKey.export({ type: "pkcs8", format: "pem" }).toString().trimEnd(),
  JSON_DEFAULTS: '{"cli":"claude","label":"codeforge #1","trigger":"@codeforge","max_cost_usd":2}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${NAME}, which wrangler would expand
  DOLLARS: "pa$$word $HOME ${PATH} \\$x",
  HASH: "abc#def",
  QUOTES: `it's "quoted" \`here\``,
  SPACES: "  padded  ",
  LEADING_QUOTE: "'single' then \"double\"",
  BACKSLASH_N: "C:\\new\\root\\",
  EMPTY: "",
  PLAIN: "X-Forwarded-For",
};

describe("the env file startEdge gives wrangler dev", () => {
  const dir = mkdtempSync(join(tmpdir(), "codeforge-env-file-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("brings every value to the Worker unchanged, a PEM private key's line breaks included", async () => {
    writeFileSync(join(dir, "worker.js"), "export default { fetch: (_request, env) => Response.json(env) };\n");
    writeFileSync(join(dir, "wrangler.toml"), 'name = "env-file-echo"\nmain = "worker.js"\ncompatibility_date = "2026-04-20"\n');
    writeFileSync(join(dir, "echo.vars"), envFileText(VALUES), { mode: 0o600 });
    const port = await freePort();
    const wrangler = join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
    const args = [wrangler, "dev", "--config", join(dir, "wrangler.toml"), "--env-file", join(dir, "echo.vars"), "--ip", "127.0.0.1", "--port", String(port)];
    const child = spawn(process.execPath, [...args, "--persist-to", join(dir, "state"), "--show-interactive-dev-session=false"], {
      cwd: dir,
      env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      detached: true,
      stdio: "ignore",
    });
    const exited = once(child, "exit");
    try {
      let body: Record<string, string> | undefined;
      const deadline = Date.now() + 30_000;
      while (body === undefined && Date.now() < deadline && child.exitCode === null) {
        body = await fetch(`http://127.0.0.1:${port}/`).then(
          (r) => (r.ok ? (r.json() as Promise<Record<string, string>>) : undefined),
          () => undefined,
        );
        if (body === undefined) await new Promise((r) => setTimeout(r, 150));
      }
      expect(body).toEqual(VALUES);
    } finally {
      if (child.exitCode === null) {
        process.kill(-child.pid!, "SIGTERM");
        await exited;
      }
    }
  }, 45_000);

  it("refuses a value no quoting can carry, and a name that is not one, naming it", () => {
    expect(() => envFileText({ WINDOWS_PEM: "-----BEGIN-----\r\nabc\r\n" })).toThrow(/WINDOWS_PEM/);
    expect(() => envFileText({ "BAD NAME": "x" })).toThrow(/BAD NAME/);
  });
});
