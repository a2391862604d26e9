/**
 * Section 6 of `npm run bench`: the GitHub App's latencies, on an edge configured with the App
 * and a fake GitHub API on loopback (tests/support/fake-github.ts: the same one the end-to-end
 * tests use). For each of `ROUNDS` signed `@codeforge` comments, each on its own issue, in a
 * pool no runner serves:
 *
 *  - delivery → answer: GitHub's wait for its 202;
 *  - delivery → 👀: until the App's reaction reaches GitHub;
 *  - delivery → task queued: until the task exists (its `created_at`, same machine clock);
 *  - delivery → reply: until the reply linking the task reaches GitHub;
 *
 * beside `POST /api/v1/tasks` (a client creating a task directly) and the bare `/health` route,
 * one request at a time, on the same edge.
 * @module
 */
import { join } from "node:path";
import { newSecret } from "#api/ids.js";
import { ApiClient } from "../client/api-client.js";
import { freePort, startEdge, type ManagedProcess } from "../scripts/local-stack.js";
import { startFakeGitHub } from "../tests/support/fake-github.js";
import { issueComment } from "../tests/e2e/github-payloads.js";
import { ms, printTable, summarize } from "./stats.js";

const ROUNDS = 60;
const FULL_NAME = "bench-org/bench-repo";

export async function githubLatency(label: string, options: { stateDir: string; repoUrl: string; processes: ManagedProcess[] }): Promise<void> {
  const github = await startFakeGitHub();
  const adminKey = newSecret("cf_admin");
  const edge = await startEdge({
    port: await freePort(),
    stateDir: join(options.stateDir, "github"),
    vars: {
      CODEFORGE_ADMIN_KEY: adminKey,
      RUNNER_SECRETS: newSecret("cf_runner"),
      CODEFORGE_LOCAL_MODE: "true",
      RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
      RATE_LIMIT_TASKS_PER_MINUTE: "100000000",
      GITHUB_APP_ID: github.appId,
      GITHUB_APP_PRIVATE_KEY: github.privateKeyPem,
      GITHUB_WEBHOOK_SECRET: github.webhookSecret,
      GITHUB_API_URL: github.url,
    },
  });
  options.processes.push(edge);
  try {
    const client = new ApiClient({ baseUrl: edge.url, apiKey: adminKey });
    const key = await client.createKey({ name: "bench-github", scopes: ["tasks:read", "tasks:write"] });
    const mapped = await fetch(`${edge.url}/api/v1/github/installations/${github.installationId}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ key_id: key.id }),
    });
    if (mapped.status !== 200) throw new Error(`mapping the installation answered ${mapped.status}`);
    github.setFile(FULL_NAME, ".codeforge.yml", "cli: demo\npool: bench-github\n");
    github.setRole(FULL_NAME, "bench-writer", "write");
    const repo = { id: 777, owner: "bench-org", name: "bench-repo", cloneUrl: options.repoUrl, installationId: github.installationId };
    const webhookUrl = `${edge.url}/integrations/github/webhook`;
    const answer: number[] = [];
    const reaction: number[] = [];
    const queued: number[] = [];
    const reply: number[] = [];
    const direct: number[] = [];
    const health: number[] = [];
    for (let i = 0; i <= ROUNDS; i++) {
      const number = 1_000 + i;
      github.addIssue(FULL_NAME, { number, title: `Bench ${i}`, body: "Measure me.", user: "bench-writer" });
      const { payload, commentId } = issueComment(repo, {
        number,
        title: `Bench ${i}`,
        issueBody: "Measure me.",
        body: `@codeforge round ${i}`,
        by: "bench-writer",
      });
      const sent = Date.now();
      const res = await github.deliver(webhookUrl, "issue_comment", payload);
      const answered = Date.now();
      if (res.status !== 202) throw new Error(`delivery answered ${res.status}: ${await res.text()}`);
      const reacted = await github.waitFor(() => github.calls.find((c) => c.method === "POST" && c.path.endsWith(`/issues/comments/${commentId}/reactions`)));
      const replied = await github.waitFor(() => github.calls.find((c) => c.method === "POST" && c.path.endsWith(`/issues/${number}/comments`)));
      const taskId = /codeforge:task=(tsk_[0-9a-z]+)/.exec(JSON.stringify(replied.body))?.[1];
      if (!taskId) throw new Error("the reply names no task");
      const task = await client.getTask(taskId);
      const t0 = performance.now();
      await client.createTask({ repo: { url: options.repoUrl }, prompt: `direct ${i}`, cli: "demo", pool: "bench-github" });
      const t1 = performance.now();
      await fetch(`${edge.url}/health`);
      const t2 = performance.now();
      // Round 0 warms the isolate, the objects and the App's token cache: not counted.
      if (i === 0) continue;
      answer.push(answered - sent);
      reaction.push(reacted.at - sent);
      queued.push(Date.parse(task.created_at) - sent);
      reply.push(replied.at - sent);
      direct.push(t1 - t0);
      health.push(t2 - t1);
    }
    const row = (name: string, samples: number[]) => {
      const s = summarize(samples);
      return [name, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
    };
    console.log(`${label}. GitHub App, ${ROUNDS} @codeforge comments one at a time (fake GitHub on loopback, its calls ~1 ms)`);
    printTable([
      ["from a signed delivery to", "p50", "p90", "p99", "max"],
      row("the 202 answer", answer),
      row("the 👀 reaction at GitHub", reaction),
      row("the task queued (created_at)", queued),
      row("the reply at GitHub", reply),
      row("baseline: POST /api/v1/tasks", direct),
      row("baseline: GET /health", health),
    ]);
    console.log("   the work runs in the conversation's object after the answer: permission check, 👀, config, token, task, reply\n");
  } finally {
    await edge.stop();
    options.processes.splice(options.processes.indexOf(edge), 1);
    await github.close();
  }
}
