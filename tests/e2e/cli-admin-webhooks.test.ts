/**
 * The webhook side of the `codeforge` command, run as a real process against the real edge, a
 * real runner and a real webhook receiver (cli-harness.ts): the signing secret (shown, rotated,
 * and checked against what the receiver got with `standardwebhooks`), one delivery's attempts
 * with their status and latency, and dead letters listed and replayed. The edge runs a fast
 * retry schedule (`WEBHOOK_RETRY_SCHEDULE_SECONDS=0,0.3,0.3`), so a dead letter takes a second.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { Task } from "#api/task.js";
import { DeadLetterList, Delivery, DeliveryList, WebhookEvent, WebhookSecret } from "#api/webhooks.js";
import { codeforge, codeforgeJson, eventually, receiver, stack, useCliStack } from "./cli-harness.js";

useCliStack({ vars: { WEBHOOK_RETRY_SCHEDULE_SECONDS: "0,0.3,0.3", WEBHOOK_TIMEOUT_SECONDS: "5" } });

/** Submits a demo task whose webhooks go to the receiver's `hook`; returns its id. */
async function submitTo(hook: string): Promise<string> {
  const task = await codeforgeJson(Task, ["submit", "--repo", stack.repoUrl, "--prompt", `Hook ${hook}`, "--callback-url", `${receiver.url}/hook/${hook}`]);
  return task.id;
}

/** The task's deliveries once none is pending. */
async function settled(taskId: string): Promise<Delivery[]> {
  const list = await eventually(
    () => codeforgeJson(DeliveryList, ["deliveries", taskId]),
    (l) => l.deliveries.length > 0 && l.deliveries.every((d) => d.status !== "pending"),
  );
  return list.deliveries;
}

describe("codeforge webhook-secret", { timeout: 120_000 }, () => {
  it("shows the secret deliveries are signed with; after a rotation without overlap, only the new one verifies", async () => {
    const shown = await codeforge(["webhook-secret"]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^whsec_\S+\n$/);
    const before = shown.stdout.trim();
    expect(shown.stderr).toContain("The secret that signs your tasks' webhooks");
    expect((await codeforge(["webhook-secret", "show"])).stdout.trim()).toBe(before);

    receiver.script("secret-a", {});
    await settled(await submitTo("secret-a"));
    const [first] = receiver.requests("secret-a");
    expect(WebhookEvent.parse(new Webhook(before).verify(first!.body, first!.headers)).type).toBe("task.succeeded");

    const rotated = await codeforge(["webhook-secret", "rotate", "--overlap", "0"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const after = rotated.stdout.trim();
    expect(after).toMatch(/^whsec_\S+$/);
    expect(after).not.toBe(before);
    expect(rotated.stderr).toContain("Store it now");
    expect(rotated.stderr).toContain("The old secret no longer signs: receivers that only know it reject your webhooks from now on.");

    receiver.script("secret-b", {});
    await settled(await submitTo("secret-b"));
    const [second] = receiver.requests("secret-b");
    expect(WebhookEvent.parse(new Webhook(after).verify(second!.body, second!.headers)).type).toBe("task.succeeded");
    expect(() => new Webhook(before).verify(second!.body, second!.headers)).toThrow();

    const json = await codeforgeJson(WebhookSecret, ["webhook-secret", "show"]);
    expect(json).toMatchObject({ secret: after, previous_secret_expires_at: null });
  });

  it("a rotation with the default overlap says until when the old secret signs too; bad overlaps are refused", async () => {
    const run = await codeforge(["webhook-secret", "rotate", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const secret = WebhookSecret.parse(JSON.parse(run.stdout));
    const until = Date.parse(secret.previous_secret_expires_at!);
    expect(until - Date.now()).toBeGreaterThan(86_000_000);
    expect(run.stderr).toMatch(
      /The old secret also signs every delivery until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; after that, receivers that only know it reject/,
    );

    expect((await codeforge(["webhook-secret", "rotate", "--overlap", "soon"])).code).toBe(2);
    const tooLong = await codeforge(["webhook-secret", "rotate", "--overlap", "9999999"]);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain("--overlap must be at most 604800");
    expect((await codeforge(["webhook-secret", "frob"])).code).toBe(2);
  });
});

describe("codeforge deliveries show", { timeout: 120_000 }, () => {
  it("lists every attempt with its time, HTTP status and latency; the list's LAST has the latency too", async () => {
    receiver.script("slow", { responses: [{ status: 500, body: "try later", delayMs: 150 }], default: { status: 200, delayMs: 150 } });
    const taskId = await submitTo("slow");
    const [delivery] = await settled(taskId);
    expect(delivery!.attempts.map((a) => [a.status, a.outcome])).toEqual([
      [500, "retry"],
      [200, "delivered"],
    ]);

    const list = await codeforge(["deliveries", taskId]);
    const row = list.stdout.split("\n").find((l) => l.startsWith(delivery!.id))!;
    const [, lastMs] = /\s2\s+HTTP 200, (\d+) ms\s/.exec(row) ?? [];
    expect(Number(lastMs), row).toBeGreaterThanOrEqual(150);

    const shown = await codeforge(["deliveries", "show", taskId, delivery!.id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^delivery {4}${delivery!.id}$`, "m"));
    expect(shown.stdout).toMatch(/^status {6}delivered at \d{4}-/m);
    const lines = shown.stdout.split("\n");
    const header = lines.findIndex((l) => l.startsWith("ATTEMPT"));
    expect(lines[header]).toMatch(/^ATTEMPT\s+STARTED \(UTC\)\s+RESULT\s+LATENCY\s+OUTCOME\s+DETAIL$/);
    const attempts = lines.slice(header + 1, header + 3).map((l) => /^(\S+)\s+\d{4}-\S+ \S+\s+(HTTP \d+)\s+(\d+) ms\s+(\S+)\s+(.*)$/.exec(l)?.slice(1));
    expect(attempts.map((a) => [a?.[0], a?.[1], a?.[3]])).toEqual([
      ["1.1", "HTTP 500", "retry"],
      ["1.2", "HTTP 200", "delivered"],
    ]);
    for (const a of attempts) expect(Number(a![2])).toBeGreaterThanOrEqual(150);
    expect(attempts[0]![4]).toContain("try later");

    const json = await codeforgeJson(Delivery, ["deliveries", "show", taskId, delivery!.id]);
    expect(json.attempts.map((a) => a.latency_ms! >= 150)).toEqual([true, true]);
    const missing = await codeforge(["deliveries", "show", taskId, "msg_00000000000000000000000000"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^codeforge: not_found: task tsk_\w+ has no delivery msg_0+/);
    expect((await codeforge(["deliveries", "show", taskId])).stderr).toContain("deliveries show needs <delivery-id>");
  });
});

describe("codeforge dead-letters", { timeout: 120_000 }, () => {
  it("says when there are none, lists a delivery that used up its retries, and redelivers it off the list", async () => {
    const empty = await codeforge(["dead-letters"]);
    expect(empty).toMatchObject({ code: 0, stdout: "no dead letters: every webhook was delivered, or is still being retried\n" });

    receiver.script("dead", { default: { status: 500, body: "nope" } });
    const taskId = await submitTo("dead");
    const [dead] = await settled(taskId);
    expect(dead).toMatchObject({ status: "failed" });
    await eventually(
      () => codeforgeJson(DeadLetterList, ["dead-letters"]),
      (l) => l.dead_letters.some((d) => d.delivery_id === dead!.id),
    );
    // A value flag on a group's default subcommand (`dead-letters --limit 1` is `dead-letters list --limit 1`).
    const table = await codeforge(["dead-letters", "--limit", "1"]);
    expect(table.stdout.split("\n")[0]).toMatch(/^DELIVERY\s+TASK\s+OWNER\s+EVENT\s+ATTEMPTS\s+LAST\s+DEAD SINCE \(UTC\)\s+URL$/);
    expect(table.stdout).toMatch(
      new RegExp(`^${dead!.id}\\s+${taskId}\\s+admin\\s+task\\.succeeded\\s+3\\s+HTTP 500\\s+\\d{4}-\\S+ \\S+\\s+${receiver.url}/hook/dead$`, "m"),
    );

    receiver.script("dead", {});
    const replay = await codeforge(["dead-letters", "redeliver", dead!.id]);
    expect(replay).toMatchObject({ code: 0, stdout: `${dead!.id} of ${taskId} queued for redelivery to ${receiver.url}/hook/dead (attempt series 2)\n` });
    const [redelivered] = await settled(taskId);
    expect(redelivered).toMatchObject({ status: "delivered", series: 2 });
    expect(receiver.requests("dead").map((r) => r.headers["webhook-id"])).toEqual([dead!.id]);
    await eventually(
      () => codeforge(["dead-letters"]),
      (r) => !r.stdout.includes(dead!.id),
    );

    const gone = await codeforge(["dead-letters", "redeliver", dead!.id]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/^codeforge: not_found: no dead letter msg_\w+ \(codeforge dead-letters lists them/);
    expect((await codeforge(["dead-letters", "redeliver"])).code).toBe(2);
    expect((await codeforge(["dead-letters", "--all", "--limit", "5"])).code).toBe(2);
  });
});
