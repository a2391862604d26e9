/**
 * End to end, in a real browser: Debian's Chromium, driven by playwright-core, against the
 * real edge under `wrangler dev` and a real runner (the demo CLI), at a phone's width (375 px).
 * One browser and one stack for the file; the tests run in order and share the page: sign in,
 * submit a task and watch its log arrive, read its diff, follow up, cancel another task,
 * redeliver a webhook, the admin pages, a 10 MB log, sign out. Every page gets an axe-core
 * check (no serious or critical violation), under the console's own CSP (axe goes in through
 * the DevTools protocol, which the CSP rightly does not allow a script tag to). When a test
 * fails, a screenshot is kept under test-output/console/.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { chromiumPath } from "../support/chromium-path.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { startStack, type Stack } from "./local-stack.js";

const SHOTS = join(PROJECT_ROOT, "test-output", "console");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let stack: Stack;
let receiver: WebhookReceiver;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  stack = await startStack({ vars: { WEBHOOKS_ALLOW_LOCAL: "true", WEBHOOK_RETRY_SCHEDULE_SECONDS: "0,0.3,0.3" } });
  browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });
  const context = await browser.newContext({ viewport: { width: 375, height: 812 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    // A CSP refusal shows up here: the console must need nothing its policy forbids.
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) pageErrors.push(message.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await receiver?.close();
});

beforeEach(({ task, onTestFailed }) => {
  onTestFailed(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await page?.screenshot({ path: join(SHOTS, `${task.name.replace(/[^a-z0-9]+/gi, "-")}.png`), fullPage: true }).catch(() => {});
  });
});

/** axe-core on the page as it is: no serious or critical violation. */
async function expectAccessible(name: string): Promise<void> {
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE);
  const violations = await page.evaluate<{ id: string; impact: string; targets: string[] }[]>(`axe.run().then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })))`);
  expect(
    violations.filter((v) => v.impact === "serious" || v.impact === "critical"),
    name,
  ).toEqual([]);
}

const log = () => page.getByRole("log", { name: "Task log" });
const statusBadge = () => page.locator("main .title-row .badge");
const taskIdOfUrl = () => new URL(page.url()).pathname.split("/")[2]!;

/** Loads a task's page afresh; answers how long until its log showed its first line. */
async function openTask(id: string): Promise<number> {
  const started = Date.now();
  await page.goto(`${stack.edgeUrl}/tasks/${id}`);
  await log().locator(".log-row.status").first().waitFor();
  const firstLineMs = Date.now() - started;
  await expect.poll(() => statusBadge().count()).toBe(1);
  return firstLineMs;
}

describe("the web console in a browser", { timeout: 60_000 }, () => {
  it("refuses a wrong key, then signs in with a pasted key that the page does not keep", async () => {
    await page.goto(stack.edgeUrl);
    await expectAccessible("sign in");
    await page.getByLabel("API key").fill("cf_not_a_real_key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("That key was not accepted.").waitFor();
    await page.getByLabel("API key").fill(stack.adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    const kept = await page.evaluate<string>(
      "JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie, html: document.documentElement.outerHTML })",
    );
    expect(kept).not.toContain(stack.adminKey);
    // HttpOnly: the session cookie is not readable by the page's scripts.
    expect(kept).not.toContain("codeforge_session");
    await expectAccessible("task list");
  });

  let firstTask = "";

  it("submits a demo task and shows its log as it arrives", async () => {
    await page.getByRole("link", { name: "New task" }).first().click();
    await page.getByRole("heading", { name: "New task" }).waitFor();
    await expectAccessible("new task");
    await page.getByLabel("Repository URL").fill(stack.repoUrl);
    await page.getByLabel("CLI").selectOption("demo");
    await page.getByLabel("Prompt").fill("Note the console test [demo:sleep=4000]");
    const submitted = Date.now();
    await page.getByRole("button", { name: "Submit task" }).click();
    await page.waitForURL(/\/tasks\/tsk_/);
    firstTask = taskIdOfUrl();
    await log().locator(".log-row.status").first().waitFor();
    const firstLineMs = Date.now() - submitted;
    // The session's start is in the log while the CLI still sleeps: the log is live.
    await log().getByText("session started").waitFor();
    const sessionMs = Date.now() - submitted;
    await statusBadge().getByText("running").waitFor();
    expect(await log().getByText("I'll note the request").count()).toBe(0);
    await log().getByText("I'll note the request in CODEFORGE_NOTES.md.").waitFor();
    await statusBadge().getByText("succeeded").waitFor();
    console.log(`console: after submitting, the first log line in ${firstLineMs} ms, the CLI's session start in ${sessionMs} ms`);
    await expectAccessible("task page");
  });

  it("shows the result: figures, changed files, the diff highlighted, a tool call that unfolds, the raw output", async () => {
    const result = page.getByRole("region", { name: "Result" });
    await result.getByText("CODEFORGE_NOTES.md").first().waitFor();
    const added = result.locator(".diff-add", { hasText: "+- Note the console test" });
    await added.waitFor();
    await expect.poll(() => result.locator(".diff-meta").count()).toBeGreaterThan(0);
    expect(await result.locator("dl").textContent()).toMatch(/Duration[\d.]+ (ms|s)/);
    const tool = log().getByRole("button", { name: /Write/ });
    expect(await tool.getAttribute("aria-expanded")).toBe("false");
    await tool.focus();
    await page.keyboard.press("Enter");
    await log()
      .getByText(/result: File created successfully/)
      .waitFor();
    expect(await log().getByRole("button", { name: /Write/ }).getAttribute("aria-expanded")).toBe("true");
    await page.getByLabel("Raw output").check();
    await log().getByText('"type":"system"').first().waitFor();
    await page.getByLabel("Raw output").uncheck();
  });

  it("follows up: the next iteration gets its own tab, and the first stays readable", async () => {
    await page.getByLabel("Instructions for the next iteration").fill("Second console change");
    await page.getByRole("button", { name: "Send follow-up" }).click();
    const second = page.getByRole("tab", { name: /Iteration 2/ });
    await second.waitFor();
    expect(await second.getAttribute("aria-selected")).toBe("true");
    await log().getByText("━━ iteration 2: Second console change").waitFor();
    await page.getByRole("tab", { name: /Iteration 2 succeeded/ }).waitFor({ timeout: 30_000 });
    await page.getByRole("region", { name: "Result" }).locator(".diff-add", { hasText: "+- Second console change" }).waitFor();
    await page.getByRole("tab", { name: /Iteration 1/ }).click();
    await log().getByText("I'll note the request in CODEFORGE_NOTES.md.").waitFor();
    expect(await log().getByText("Second console change").count()).toBe(0);
    await expectAccessible("task page, two iterations");
  });

  it("lists a new task without a reload as its status changes, and cancels it", async () => {
    await page.getByRole("link", { name: "Tasks", exact: true }).click();
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    const task = await stack.client.createTask({ repo: { url: stack.repoUrl, ref: "main" }, prompt: "Wait for the cancel [demo:sleep=20000]", cli: "demo" });
    const row = page.getByRole("row", { name: new RegExp(task.id) });
    await row.getByText("running").waitFor();
    await row.getByRole("link", { name: task.id }).click();
    await page.getByRole("button", { name: "Cancel task" }).click();
    await statusBadge().getByText("canceled").waitFor({ timeout: 30_000 });
    expect((await stack.client.getTask(task.id)).status).toBe("canceled");
    await page.goto(`${stack.edgeUrl}/tasks?q=${task.id}`);
    await page
      .getByRole("row", { name: new RegExp(task.id) })
      .getByText("canceled")
      .waitFor();
  });

  it("shows a task's webhook deliveries and redelivers one", async () => {
    receiver.script("console", {});
    const task = await stack.client.createTask({
      repo: { url: stack.repoUrl, ref: "main" },
      prompt: "Hook",
      cli: "demo",
      callback_url: `${receiver.url}/hook/console`,
    });
    await expect.poll(() => receiver.requests("console").length, { timeout: 30_000 }).toBe(1);
    const firstLineMs = await openTask(task.id);
    console.log(`console: a task page loaded afresh showed its first log line after ${firstLineMs} ms`);
    const deliveries = page.getByRole("region", { name: "Webhook deliveries" });
    await deliveries.getByText("delivered").waitFor();
    await deliveries.getByRole("button", { name: /Redeliver task.succeeded/ }).click();
    await expect.poll(() => receiver.requests("console").length, { timeout: 15_000 }).toBe(2);
    const [first, again] = receiver.requests("console");
    expect(again!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
  });

  it("shows the runners, creates, rotates and revokes a key with its secret shown once, and lists the audit log", async () => {
    await page.getByRole("link", { name: "Runners" }).click();
    await page.getByRole("cell", { name: "e2e-runner-1" }).waitFor();
    await expectAccessible("runners");
    await page.getByRole("link", { name: "Keys" }).click();
    await page.getByLabel("Name").fill("console key");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = page.getByLabel("Secret of console key");
    await expect.poll(() => secret.inputValue()).toMatch(/^cf_key_/);
    const created = await secret.inputValue();
    const res = await fetch(`${stack.edgeUrl}/api/v1/tasks`, { headers: { authorization: `Bearer ${created}` } });
    expect(res.status).toBe(200);
    await expectAccessible("keys");
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.content()).not.toContain(created);
    await page.getByRole("button", { name: "Rotate console key" }).click();
    await expect.poll(async () => (await secret.inputValue().catch(() => "")).startsWith("cf_key_") && (await secret.inputValue()) !== created).toBe(true);
    await page.getByRole("button", { name: "Done" }).click();
    const revoke = page.getByRole("button", { name: "Revoke console key" });
    await revoke.click();
    await expect.poll(() => revoke.textContent()).toBe("Confirm revoke");
    await revoke.click();
    await page
      .getByRole("row", { name: /console key/ })
      .getByText("revoked")
      .waitFor();
    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByRole("cell", { name: "key.revoke" }).first().waitFor();
    await expectAccessible("audit");
  });

  it("renders a 10 MB log with no long task over 200 ms", async () => {
    const task = await stack.client.createTask({ repo: { url: stack.repoUrl, ref: "main" }, prompt: "Bulk [demo:bytes=10000000]", cli: "demo" });
    await expect.poll(async () => (await stack.client.getTask(task.id)).status, { timeout: 120_000, interval: 500 }).toBe("succeeded");
    // The longest main-thread task from here on (the Long Tasks API reports those over 50 ms).
    await page.evaluate(`window.longest = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.longest = Math.max(window.longest, entry.duration);
      }).observe({ type: "longtask" });`);
    const opened = Date.now();
    await page.getByRole("link", { name: "Tasks", exact: true }).click();
    await page.getByRole("link", { name: task.id }).click();
    await log().getByText("● succeeded").waitFor({ timeout: 60_000 });
    const loadedMs = Date.now() - opened;
    await page.getByLabel("Raw output").check();
    const rows = await log().evaluate((el) => el.scrollHeight / 18);
    expect(rows).toBeGreaterThan(100_000);
    for (const at of [0, 0.5, 0.25, 1]) {
      await log().evaluate((el, f) => (el.scrollTop = el.scrollHeight * f), at);
      await page.waitForTimeout(50);
    }
    const longest = await page.evaluate<number>("window.longest");
    console.log(`console: 10 MB log (${Math.round(rows)} rows) loaded in ${loadedMs} ms; longest task ${Math.round(longest)} ms`);
    expect(longest).toBeLessThan(200);
  }, 180_000);

  it("keeps script and style under 100 KB compressed", async () => {
    const html = await (await fetch(stack.edgeUrl)).text();
    const version = /\/console\/([0-9a-f]+)\//.exec(html)![1];
    const files = readdirSync(join(PROJECT_ROOT, "edge", "console")).filter((name) => /\.(js|css)$/.test(name));
    expect(files.length).toBeGreaterThan(10);
    let total = 0;
    for (const name of files) {
      const res = await fetch(`${stack.edgeUrl}/console/${version}/${name}`);
      expect(res.status, name).toBe(200);
      total += gzipSync(Buffer.from(await res.arrayBuffer()), { level: 9 }).length;
    }
    console.log(`console: script and style, gzip -9 per file: ${(total / 1024).toFixed(1)} KiB`);
    expect(total).toBeLessThan(100 * 1024);
  });

  it("signs out: the session ends and the sign-in form is back", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    const status = await page.evaluate<number>('fetch("/api/v1/session").then((res) => res.status)');
    expect(status).toBe(401);
    await page.goto(`${stack.edgeUrl}/tasks/${firstTask}`);
    await page.getByLabel("API key").waitFor();
    expect(pageErrors).toEqual([]);
  });
});
