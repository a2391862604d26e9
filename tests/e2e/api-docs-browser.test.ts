/**
 * End-to-end, in a real browser: the API reference page (`/api/v1/docs`) renders the API's
 * operations from the edge under `wrangler dev` with every request to another host refused (as
 * offline), under its own Content-Security-Policy, with no policy violation and no request that
 * leaves the edge. Debian's `chromium`, driven by playwright-core.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { type Stack, startStack } from "./local-stack.js";

/** Debian's `chromium` on PATH (`npm test` installs it where absent). */
function chromiumPath(): string {
  try {
    return execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("this test needs Debian's chromium on PATH (apt-get install chromium)");
  }
}

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack({ runners: 0 });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("API reference page in a browser", () => {
  it("renders every tag's operations offline, with no CSP violation and nothing fetched from another host", { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const origin = new URL(stack.edgeUrl).origin;
    const requested: string[] = [];
    const elsewhere: string[] = [];
    // Offline: anything for another host is refused, and counted.
    await context.route("**/*", (route) => {
      const url = route.request().url();
      requested.push(url);
      if (new URL(url).origin === origin) return route.continue();
      elsewhere.push(url);
      return route.abort("internetdisconnected");
    });
    // What the page's CSP blocked, as the browser reports it to the page.
    await context.addInitScript({
      content: `window.__violations = [];
        document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));`,
    });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(String(e)));
    try {
      await page.goto(`${stack.edgeUrl}/api/v1/docs`);
      await page.locator(".swagger-ui .info .title").filter({ hasText: "CodeForge API" }).waitFor({ timeout: 30_000 });
      await page.locator(".opblock").first().waitFor();
      // Every operation and webhook of the document is listed, under each of its tags.
      type Ops = Record<string, Record<string, { tags?: string[] }>>;
      const document = (await (await fetch(`${stack.edgeUrl}/api/v1/openapi.json`)).json()) as { paths: Ops; webhooks?: Ops };
      const operations = [...Object.values(document.paths), ...Object.values(document.webhooks ?? {})]
        .flatMap((ops) => Object.values(ops))
        .reduce((n, op) => n + Math.max(1, op.tags?.length ?? 0), 0);
      expect(await page.locator(".opblock").count()).toBe(operations);
      // An operation opens, with its parameters and responses, from the same document.
      await page.locator(".opblock-summary-control").first().click();
      await page.locator(".opblock .responses-wrapper").first().waitFor();
      // The page's CSP let through everything swagger-ui needed: it reported no violation.
      expect(await page.evaluate("window.__violations")).toEqual([]);
      expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
      expect(problems).toEqual([]);
      expect(elsewhere).toEqual([]);
      expect(requested.some((u) => u.endsWith("/api/v1/openapi.json"))).toBe(true);
    } catch (e) {
      const dir = join(PROJECT_ROOT, ".codeforge", "test-screenshots");
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, "api-docs.png"), fullPage: true });
      throw e;
    } finally {
      await context.close();
    }
  });
});
