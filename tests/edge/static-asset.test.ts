/**
 * Unit: `staticAsset` (edge/src/http/static-asset.ts), the answer for a file the Worker carries
 * as a Text module — its headers, the ETag a browser revalidates with, 304 and HEAD — run in
 * workerd with its own `crypto.subtle`.
 */
import { describe, expect, it } from "vitest";
import { staticAsset } from "../../edge/src/http/static-asset.js";

const URL = "https://codeforge.test/file";
const BODY = "body { color: #1e90ff } /* é */\n";

const get = (headers: Record<string, string> = {}, method = "GET") => new Request(URL, { method, headers });

describe("staticAsset", () => {
  it("serves the text with its type, length, a strong ETag and a year's immutable cache", async () => {
    const asset = staticAsset({ body: BODY, contentType: "text/css; charset=utf-8", cache: "immutable" });
    const res = await asset.respond(get());
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(BODY);
    expect(res.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(res.headers.get("content-length")).toBe(String(new TextEncoder().encode(BODY).byteLength));
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]{32}"$/);
    expect(res.headers.get("etag")).toBe(await asset.etag());
  });

  it("gives the same ETag to the same text and another to other text", async () => {
    const a = staticAsset({ body: BODY, contentType: "text/css", cache: "immutable" });
    const b = staticAsset({ body: BODY, contentType: "text/css", cache: "no-cache" });
    const c = staticAsset({ body: `${BODY} `, contentType: "text/css", cache: "immutable" });
    expect(await a.etag()).toBe(await b.etag());
    expect(await a.etag()).not.toBe(await c.etag());
  });

  it("answers If-None-Match with a 304 and no body: the tag itself, weak, in a list, or *", async () => {
    const asset = staticAsset({ body: BODY, contentType: "text/html", cache: "no-cache", headers: { "Content-Security-Policy": "default-src 'self'" } });
    const etag = await asset.etag();
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await asset.respond(get({ "If-None-Match": ifNoneMatch }));
      expect(res.status, ifNoneMatch).toBe(304);
      expect(await res.text()).toBe("");
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("content-security-policy")).toBe("default-src 'self'");
    }
    const changed = await asset.respond(get({ "If-None-Match": '"0123456789abcdef0123456789abcdef"' }));
    expect(changed.status).toBe(200);
    expect(await changed.text()).toBe(BODY);
  });

  it("answers HEAD with the headers and no body", async () => {
    const asset = staticAsset({ body: BODY, contentType: "text/javascript", cache: "immutable" });
    const res = await asset.respond(get({}, "HEAD"));
    expect(res.status).toBe(200);
    expect(res.body).toBeNull();
    expect(res.headers.get("content-length")).toBe(String(new TextEncoder().encode(BODY).byteLength));
    expect(res.headers.get("etag")).toBe(await asset.etag());
  });
});
