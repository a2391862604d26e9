/**
 * Integration: the Worker serves its OpenAPI document without a key; the document is the one
 * generated from the routes the Worker registers; and every route the Worker serves has a
 * definition — a route added without one fails here.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import committed from "#api/openapi.json";
import { createApp } from "../../edge/src/app.js";
import { CONSOLE_FILES_PATH, CONSOLE_PAGES } from "../../edge/src/routes/console.js";
import { openApiDocument } from "../../edge/src/routes/openapi-document.js";
import { ORIGIN, apiFetch, expectError } from "./api-client.js";

type Doc = { paths: Record<string, Record<string, unknown>> };

/**
 * Routes that are not `createRoute` definitions: the document and its reference page (with the
 * page's files) describe the API rather than belong to it (they are in the document, written by
 * hand in api/openapi.ts).
 */
const NOT_DEFINED = new Set(["GET /api/v1/openapi.json", "GET /api/v1/docs", "GET /api/v1/docs/assets/{file}"]);
/** The web console's page and files: served by the Worker, but no part of the API. */
const CONSOLE = new Set<string>([...CONSOLE_PAGES, CONSOLE_FILES_PATH]);
const apiRoutes = (app: ReturnType<typeof createApp>) => app.routes.filter((r) => r.method !== "ALL" && !CONSOLE.has(r.path));

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

  it("commits the document generated from the app's routes (run `npm run openapi` if not)", () => {
    const generated = openApiDocument(createApp(), committed.info.version);
    expect(JSON.parse(JSON.stringify(generated))).toEqual(committed);
  });

  it("has a definition for every route the Worker serves", () => {
    const app = createApp();
    const defined = new Set(app.openAPIRegistry.definitions.flatMap((d) => (d.type === "route" ? [`${d.route.method.toUpperCase()} ${d.route.path}`] : [])));
    const served = [...new Set(apiRoutes(app).map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`))];
    expect(served.length).toBeGreaterThan(25);
    const undefinedRoutes = served.filter((route) => !defined.has(route) && !NOT_DEFINED.has(route));
    expect(undefinedRoutes).toEqual([]);
  });

  it("documents every route the Worker serves", () => {
    const doc = committed as unknown as Doc;
    const served = apiRoutes(createApp()).map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    for (const route of served) expect(documented).toContain(route);
  });

  it("answers through the default hook: an impossible path id is a 404, a bad query a 400 naming the field", async () => {
    const missing = await expectError(await apiFetch("/api/v1/tasks/tsk_not-an-id"), 404, "not_found");
    expect(missing.error.message).toBe("task not found");
    const key = await expectError(
      await apiFetch("/api/v1/keys/key_nope/rotate", { method: "POST", body: "{not json", headers: { "content-type": "application/json" } }),
      404,
      "not_found",
    );
    expect(key.error.message).toBe("key not found");
    const query = await expectError(await apiFetch("/api/v1/tasks?limit=0"), 400, "validation_failed", "limit");
    expect(query.error.message).toMatch(/^limit: /);
    const repeated = await expectError(await apiFetch("/api/v1/tasks?limit=1&limit=2"), 400, "validation_failed", "limit");
    expect(repeated.error.message).toBe('query parameter "limit" is given more than once; give it once');
  });
});
