/**
 * End to end: what operators see. A real task that carries an access token and an env secret
 * runs through `wrangler dev` and a runner process; then both processes' logs are read.
 * The secrets (and the admin key, the runner secret, any lease id) must appear nowhere; the
 * lines about the task must carry its task id, the creating request's id and trace id, and the
 * runner's id. `/metrics` on the same edge counts the task, and `/ready` answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Task } from "#api/task.js";
import { parseExposition, metricValue } from "../edge/prometheus-text.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;
const METRICS_TOKEN = `metrics-token-${crypto.randomUUID()}`;

beforeAll(async () => {
  // Every high-volume line written, so the runner traffic's lines are there to be grepped too.
  stack = await startStack({ vars: { METRICS_TOKEN, LOG_SAMPLE_RATIO: "1", METRICS_FLUSH_SECONDS: "1" } });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

type Line = Record<string, unknown>;

/** Every JSON line in the stack's logs (wrangler prints the Worker's lines as they are). */
function jsonLines(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split("\n")) {
    const start = raw.indexOf("{");
    if (start < 0) continue;
    try {
      const parsed = JSON.parse(raw.slice(start)) as unknown;
      if (parsed && typeof parsed === "object" && "msg" in parsed) lines.push(parsed as Line);
    } catch {
      // wrangler's own banner lines and anything else that is not a log object
    }
  }
  return lines;
}

async function waitForEnd(id: string): Promise<Task> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const task = await stack.client.getTask(id);
    if (["succeeded", "failed", "timed_out", "canceled"].includes(task.status) || Date.now() > deadline) return task;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("logs and metrics of a real task", () => {
  it("keeps the task's secrets out of both processes' logs and ties the lines to the task, request, trace and runner", async () => {
    const accessToken = `tok${crypto.randomUUID().replace(/-/g, "")}`;
    const envSecret = `envsecret${crypto.randomUUID().replace(/-/g, "")}`;
    const traceId = crypto.randomUUID().replace(/-/g, "");
    const res = await fetch(`${stack.edgeUrl}/api/v1/tasks`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${stack.adminKey}`,
        "content-type": "application/json",
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({
        repo: { url: stack.repoUrl, ref: "main" },
        prompt: `Add a README; the token is ${accessToken.slice(0, 3)}… (not the token)`,
        cli: "demo",
        access_token: accessToken,
        env: { DEMO_API_KEY: envSecret },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const requestId = res.headers.get("x-request-id")!;
    const created = Task.parse(await res.json());
    const ended = await waitForEnd(created.id);
    expect(ended.status).toBe("succeeded");

    // The task object logs its end after the report; give the processes a moment to write.
    let logs = stack.logs();
    const deadline = Date.now() + 10_000;
    while (!jsonLines(logs).some((l) => l.msg === "task ended" && l.task_id === created.id) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      logs = stack.logs();
    }

    for (const secret of [accessToken, envSecret, stack.adminKey, stack.runnerSecret, METRICS_TOKEN]) {
      expect(logs.includes(secret), "a secret reached a log").toBe(false);
    }
    expect(logs).not.toMatch(/lse_[0-9a-z]{10,}/);

    const lines = jsonLines(logs);
    for (const line of lines) {
      expect(typeof line.level, JSON.stringify(line)).toBe("string");
      expect(typeof line.time, JSON.stringify(line)).toBe("string");
    }
    // The edge: the creating request's line, and the task object's end line in the same trace —
    // the task's own, not the one the client sent (a client's traceparent is only a link).
    const createLine = lines.find((l) => l.msg === "request" && l.request_id === requestId);
    expect(createLine).toMatchObject({
      method: "POST",
      path: "/api/v1/tasks",
      status: 201,
      task_id: created.id,
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(createLine!.trace_id).not.toBe(traceId);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "task ended", task_id: created.id, trace_id: createLine!.trace_id, status: "succeeded", cli: "demo" }),
    );
    // Runner traffic about the task is logged with its route pattern, never the raw path.
    expect(lines).toContainEqual(expect.objectContaining({ msg: "request", path: "/runner/v1/tasks/:id/complete", task_id: created.id }));
    // The runner: its lines about the task carry its id and the task's.
    expect(lines).toContainEqual(expect.objectContaining({ runner_id: "e2e-runner-1", task_id: created.id, msg: "leased task" }));
  }, 90_000);

  it("counts the task on /metrics (behind its token) and is ready", async () => {
    expect((await fetch(`${stack.edgeUrl}/metrics`)).status).toBe(401);
    const deadline = Date.now() + 15_000;
    let exposition = parseExposition(await (await fetch(`${stack.edgeUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text());
    // Pool gauges come from the snapshots the dispatchers push, at most POOL_SNAPSHOT_SECONDS (10) apart.
    const counted = () =>
      metricValue(exposition, "codeforge_tasks_total", { status: "succeeded" }) >= 1 && metricValue(exposition, "codeforge_workers_total") >= 1;
    while (!counted() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      exposition = parseExposition(await (await fetch(`${stack.edgeUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text());
    }
    expect(metricValue(exposition, "codeforge_tasks_total", { status: "succeeded" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(exposition, "codeforge_http_requests_total", { method: "POST", path: "/api/v1/tasks", status: "201" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(exposition, "codeforge_workers_total")).toBeGreaterThanOrEqual(1);
    const ready = await fetch(`${stack.edgeUrl}/ready`);
    expect(ready.status, await ready.clone().text()).toBe(200);
  }, 30_000);
});
