/**
 * Integration: the API reference page (`/api/v1/docs`) is swagger-ui served entirely by the
 * Worker — the page, its stylesheet and scripts all come from the edge's own origin, so it
 * works offline — under a CSP that allows nothing else, with ETags and 304s for revalidation.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN, expectError } from "./api-client.js";

const DOCS = `${ORIGIN}/api/v1/docs`;

/** Every URL the page loads: script sources, stylesheets and links. */
function linkedUrls(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
}

async function page(): Promise<{ res: Response; html: string }> {
  const res = await SELF.fetch(DOCS);
  return { res, html: await res.text() };
}

describe("API reference page", () => {
  it("is HTML loading the OpenAPI document, needing no key", async () => {
    const { res, html } = await page();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(html).toContain('data-document="/api/v1/openapi.json"');
  });

  it("names no other host and has no inline script", async () => {
    const { html } = await page();
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/(?:src|href)="\/\//);
    const urls = linkedUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const url of urls) expect(url, url).toMatch(/^\/api\/v1\//);
    // Every <script> has a src and nothing between its tags.
    for (const script of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(script[1]).toMatch(/\ssrc="/);
      expect(script[2]!.trim()).toBe("");
    }
  });

  it("has a CSP allowing scripts, styles and requests only from its own origin", async () => {
    const { res } = await page();
    const csp = res.headers.get("content-security-policy") ?? "";
    const directives = Object.fromEntries(
      csp
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...sources]) => [name, sources]),
    );
    expect(directives["default-src"]).toEqual(["'none'"]);
    expect(directives["script-src"]).toEqual(["'self'"]);
    expect(directives["style-src"]).toEqual(["'self'"]);
    expect(directives["connect-src"]).toEqual(["'self'"]);
    expect(directives["img-src"]).toEqual(["'self'", "data:"]);
    expect(csp).not.toContain("unsafe");
  });

  it("serves every file the page links to, swagger-ui's under versioned names cached for a year", async () => {
    const { html } = await page();
    const files = linkedUrls(html).filter((u) => u.startsWith("/api/v1/docs/assets/"));
    expect(files).toHaveLength(3);
    const types: Record<string, string> = {};
    for (const file of files) {
      const res = await SELF.fetch(`${ORIGIN}${file}`);
      const text = await res.text();
      expect(res.status, file).toBe(200);
      expect(res.headers.get("etag"), file).toMatch(/^"[0-9a-f]{32}"$/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      types[file] = res.headers.get("content-type")!;
      if (/\/swagger-ui(-bundle)?-\d+\.\d+\.\d+\.(css|js)$/.test(file)) {
        expect(res.headers.get("cache-control"), file).toBe("public, max-age=31536000, immutable");
      } else {
        expect(res.headers.get("cache-control"), file).toBe("no-cache");
        // The script that starts swagger-ui: the document from the page, and no validator badge.
        expect(text).toContain("root.dataset.document");
        expect(text).toContain("validatorUrl: null");
        expect(text).not.toMatch(/https?:\/\//);
      }
      if (file.endsWith(".css")) expect(text).toContain(".swagger-ui");
      if (file.includes("swagger-ui-bundle")) {
        expect(text.length).toBeGreaterThan(1_000_000);
        expect(text).toContain("SwaggerUIBundle");
      }
    }
    expect(Object.values(types).sort()).toEqual(["text/css; charset=utf-8", "text/javascript; charset=utf-8", "text/javascript; charset=utf-8"]);
  });

  it("answers a revalidation with 304 when unchanged, for the page and its files", async () => {
    const { html } = await page();
    const files = linkedUrls(html).filter((u) => u.startsWith("/api/v1/docs/assets/"));
    for (const url of [DOCS, ...files.map((u) => `${ORIGIN}${u}`)]) {
      const first = await SELF.fetch(url);
      await first.arrayBuffer();
      const etag = first.headers.get("etag")!;
      const again = await SELF.fetch(url, { headers: { "If-None-Match": etag } });
      expect(again.status, url).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
      const stale = await SELF.fetch(url, { headers: { "If-None-Match": '"00000000000000000000000000000000"' } });
      expect(stale.status, url).toBe(200);
      await stale.arrayBuffer();
    }
  });

  it("answers HEAD with the headers only", async () => {
    const { html } = await page();
    const bundle = linkedUrls(html).find((u) => u.includes("swagger-ui-bundle"))!;
    const res = await SELF.fetch(`${ORIGIN}${bundle}`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(1_000_000);
  });

  it("answers a file it does not have with a 404 envelope", async () => {
    await expectError(await SELF.fetch(`${ORIGIN}/api/v1/docs/assets/swagger-ui-0.0.1.css`), 404, "not_found");
    await expectError(await SELF.fetch(`${ORIGIN}/api/v1/docs/assets/constructor`), 404, "not_found");
  });
});
