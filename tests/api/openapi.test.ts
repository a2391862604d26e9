/** The committed OpenAPI document and stream-event schema are what the contract generates. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { generatedFiles } from "../../scripts/generate-openapi.js";
import { EXAMPLE_TASK, EXAMPLE_TASK_REQUEST } from "#api/openapi.js";
import { Task } from "#api/task.js";
import { CreateTaskRequest } from "#api/task-request.js";
import { METRIC_FAMILIES } from "#api/metrics.js";

describe("generated API documents", () => {
  it.each(Object.entries(generatedFiles()))("%s is up to date (run `npm run openapi` if not)", (path, text) => {
    expect(readFileSync(join(PROJECT_ROOT, path), "utf8")).toBe(text);
  });

  it("describes the task request with its limits and defaults", () => {
    const doc = JSON.parse(generatedFiles()["api/openapi.json"]!) as {
      openapi: string;
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>>; required?: string[] }> };
    };
    expect(doc.openapi).toBe("3.1.0");
    const create = doc.components.schemas.CreateTaskRequest!;
    expect(create.required).toEqual(expect.arrayContaining(["repo", "prompt", "cli"]));
    expect(create.properties.prompt).toMatchObject({ minLength: 1, maxLength: 200_000 });
    expect(create.properties.timeout_seconds).toMatchObject({ default: 1_800, minimum: 10 });
    expect(create.properties.cli!.enum).toContain("demo");
  });

  it("has examples that are valid requests and responses", () => {
    expect(CreateTaskRequest.safeParse(EXAMPLE_TASK_REQUEST).error).toBeUndefined();
    expect(Task.safeParse(EXAMPLE_TASK).error).toBeUndefined();
  });

  it("documents push, branch and the result's cost, usage and push", () => {
    const doc = JSON.parse(generatedFiles()["api/openapi.json"]!) as {
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>>; required?: string[] }> };
    };
    const create = doc.components.schemas.CreateTaskRequest!;
    expect(create.properties.push).toMatchObject({ type: "boolean", default: false });
    expect(create.properties.branch).toMatchObject({ type: "string" });
    const task = doc.components.schemas.Task!;
    expect(task.required).toEqual(expect.arrayContaining(["push", "branch"]));
    const result = JSON.stringify(task.properties.result);
    for (const field of ["cost_usd", "usage", "cache_read_input_tokens", "commit_sha", "patch_truncated"]) expect(result).toContain(field);
  });

  it("documents autonomy, egress_allow, the result's sandbox, resource_limit and egress_denied events", () => {
    const doc = JSON.parse(generatedFiles()["api/openapi.json"]!) as {
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>>; required?: string[] }> };
    };
    const create = doc.components.schemas.CreateTaskRequest!;
    expect(create.properties.autonomy).toMatchObject({ enum: ["full", "edits"], default: "full" });
    expect(create.properties.egress_allow).toMatchObject({ type: "array", maxItems: 64 });
    expect(create.required).not.toContain("egress_allow");
    const task = doc.components.schemas.Task!;
    expect(task.required).toEqual(expect.arrayContaining(["autonomy", "egress_allow"]));
    expect(JSON.stringify(task.properties.result)).toContain('"bubblewrap"');
    expect(JSON.stringify(task.properties.error)).toContain('"resource_limit"');
    const lease = JSON.stringify(doc.components.schemas.Lease);
    for (const field of ['"autonomy"', '"egress_allow"']) expect(lease).toContain(field);
    expect(JSON.stringify(doc.components.schemas.EventBatch)).toContain('"egress_denied"');
    expect(generatedFiles()["api/stream-event.schema.json"]).toContain('"egress_denied"');
  });

  it("describes /metrics as text/plain with every metric family the edge serves", () => {
    const doc = JSON.parse(generatedFiles()["api/openapi.json"]!) as {
      paths: Record<string, { get: { description: string; responses: Record<string, { content?: Record<string, unknown> }> } }>;
    };
    const metrics = doc.paths["/metrics"]!.get;
    expect(Object.keys(metrics.responses["200"]!.content!)[0]).toMatch(/^text\/plain/);
    for (const family of METRIC_FAMILIES) expect(metrics.description).toContain(family.name);
  });
});
