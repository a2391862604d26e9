/**
 * What the `codeforge` command tests share: one real CodeForge per test file (the edge under
 * `wrangler dev` and a real runner, see local-stack.ts) with a real webhook receiver beside it,
 * and helpers that run bin/codeforge.js as a real process against it.
 *
 * A file calls `useCliStack()` once at its top; `stack` and `receiver` are set before its
 * first test runs (they are live bindings, read them inside tests, not at import time).
 * @module
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { ApiKeyWithSecret } from "#api/keys.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { startStack, type Stack } from "./local-stack.js";

export let stack: Stack;
export let receiver: WebhookReceiver;

/**
 * Starts the stack and the webhook receiver before the file's tests and stops them after;
 * `vars` adds edge settings (e.g. a fast webhook retry schedule).
 */
export function useCliStack(options: { vars?: Record<string, string> } = {}): void {
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    stack = await startStack({ vars: { WEBHOOKS_ALLOW_LOCAL: "true", ...options.vars } });
  }, 90_000);

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `codeforge` with the admin key and the edge's URL in the environment, unless `env`
 * overrides them, in the stack's state directory (no git checkout: `submit` needs its --repo)
 * unless `cwd` says where.
 */
export function codeforge(args: string[], env: Record<string, string> = {}, options: { cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "codeforge.js"), ...args],
      {
        env: { PATH: process.env.PATH, HOME: stack.stateDir, CODEFORGE_URL: stack.edgeUrl, CODEFORGE_API_KEY: stack.adminKey, ...env },
        cwd: options.cwd ?? stack.stateDir,
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `codeforge … --json` and parses what it printed; fails unless it exited 0. */
export async function codeforgeJson<T>(schema: { parse(v: unknown): T }, args: string[], env: Record<string, string> = {}): Promise<T> {
  const run = await codeforge([...args, "--json"], env);
  expect(run.code, run.stderr).toBe(0);
  return schema.parse(JSON.parse(run.stdout));
}

/** A new non-admin key, made with `codeforge keys create`. */
export async function newKey(name: string, extra: string[] = []): Promise<{ id: string; key: string }> {
  return codeforgeJson(ApiKeyWithSecret, ["keys", "create", "--name", name, ...extra]);
}

/** Reads until `done` holds, every 200 ms; throws with the last value after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T> | T, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 1_000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
