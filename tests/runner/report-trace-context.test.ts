// Integration in Node, with the runner's tracing off (no OTLP endpoint): the task's trace still
// reaches the edge. Every report about a leased task — heartbeat, events, session, complete — carries the
// lease's `traceparent` exactly, so the edge's spans for them continue the task's trace; a lease
// without one sends none. A real HTTP fake edge, the real signed client, lease loop and task
// runner, git against a file:// repository, the demo CLI as a real child process.
import { beforeAll, describe, expect, it } from "vitest";
import { startTracing } from "../../runner/src/telemetry/tracing.js";
import { useRunner } from "./harness/use-runner.js";

beforeAll(() => {
  // As main.ts does with no OTEL_* endpoint set.
  startTracing(null, { runnerId: "trace-runner", version: "test" });
});
const h = useRunner({ runner: { runnerId: "trace-runner" }, heartbeatIntervalMs: 100 });

describe("trace context on reports, runner tracing off", () => {
  it("sends the lease's traceparent on every report of that task, and none for a lease without one", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const traced = h.edge.enqueue({ repo: { url: h.fixture.url, ref: "main" }, prompt: "Traced [demo:lines=5][demo:tick=150]" }, { traceparent });
    const untraced = h.enqueue({ prompt: "Untraced [demo:lines=5][demo:tick=150]" });
    await h.edge.waitFor(() => traced.completion && untraced.completion, 20_000);
    expect(traced.completion!.outcome).toBe("succeeded");

    const about = (id: string) => h.edge.reportTraceparents.filter((r) => r.path.includes(id));
    const tracedReports = about(traced.id);
    const kinds = new Set(tracedReports.map((r) => r.path.split("/").at(-1)));
    expect([...kinds].sort()).toEqual(["complete", "events", "heartbeat", "session"]);
    expect(tracedReports.map((r) => r.traceparent)).toEqual(tracedReports.map(() => traceparent));
    // Two tasks ran side by side: neither one's context leaked into the other's reports.
    expect(about(untraced.id).length).toBeGreaterThan(0);
    expect(about(untraced.id).map((r) => r.traceparent)).toEqual(about(untraced.id).map(() => undefined));
  });
});
