/**
 * Integration: the Worker serves its OpenAPI document without a key, and the document has
 * every route the Worker has — a route added without documenting it fails here.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import committed from "../../api/openapi.json";
import { createApp } from "../../edge/src/app.js";
import { ORIGIN } from "./api-client.js";

type Doc = { paths: Record<string, Record<string, unknown>> };

describe("OpenAPI", () => {
  it("serves the committed document at /api/v1/openapi.json without a key", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(committed);
  });

  it("serves a browsable reference page at /api/v1/docs", async () => {
    const res = await SELF.fetch(`${ORIGIN}/api/v1/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/api/v1/openapi.json");
  });

  it("documents every route the Worker serves", () => {
    const doc = committed as unknown as Doc;
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(new Set(served).size).toBeGreaterThan(8);
    for (const route of served) expect(documented).toContain(route);
  });
});
