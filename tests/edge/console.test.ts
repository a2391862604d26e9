/**
 * Integration, in workerd: the web console is served by the Worker itself. Every page path
 * answers the same `index.html` under a strict CSP; the scripts and the style it names are
 * served at versioned paths, cached for good and revalidated with their ETag; nothing in them
 * comes from another origin; and the page and its files need no key.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN } from "./api-client.js";

const PAGES = ["/", "/tasks", "/tasks/tsk_01jaaaaaaaaaaaaaaaaaaaaaaa", "/new", "/admin/runners", "/admin/keys", "/admin/audit"];

async function page(path = "/"): Promise<{ res: Response; html: string; assets: string[] }> {
  const res = await SELF.fetch(`${ORIGIN}${path}`);
  const html = await res.text();
  const assets = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
  return { res, html, assets };
}

describe("the web console", () => {
  it("answers every console path with the same page, under a CSP that allows only its own origin", async () => {
    const first = await page("/");
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = first.res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    const origin = new URL(ORIGIN);
    expect(csp).toContain(`connect-src 'self' ${origin.protocol === "https:" ? "wss" : "ws"}://${origin.host}`);
    expect(csp).not.toContain("unsafe-inline");
    expect(first.res.headers.get("cache-control")).toBe("no-cache");
    expect(first.assets).toHaveLength(3);
    for (const path of PAGES.slice(1)) {
      const other = await page(path);
      expect(other.res.status, path).toBe(200);
      expect(other.html).toBe(first.html);
    }
  });

  it("serves its scripts and style at versioned paths, cached for good, 304 on a matching ETag", async () => {
    const { assets } = await page();
    const script = assets.find((a) => a.endsWith("/app.js"))!;
    const res = await SELF.fetch(`${ORIGIN}${script}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const etag = res.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const source = await res.text();
    expect(source).toContain('from "./api.js"');
    const again = await SELF.fetch(`${ORIGIN}${script}`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    const style = await SELF.fetch(`${ORIGIN}${assets.find((a) => a.endsWith(".css"))!}`);
    expect(style.headers.get("content-type")).toBe("text/css; charset=utf-8");
    // An older page's version still gets the file, but not for keeps.
    const stale = await SELF.fetch(`${ORIGIN}${script.replace(/\/console\/[^/]+\//, "/console/000000000000/")}`);
    expect(stale.status).toBe(200);
    expect(stale.headers.get("cache-control")).toBe("no-cache");
  });

  it("loads nothing from another origin and writes no untrusted text as HTML", async () => {
    const { html, assets } = await page();
    const version = assets[0]!.split("/")[2]!;
    const files = ["app.js", "api.js", "dom.js", "task-page.js", "log-view.js", "event-rows.js", "console.css", "task.css"];
    for (const name of files) {
      const text = await (await SELF.fetch(`${ORIGIN}/console/${version}/${name}`)).text();
      expect(text.length, name).toBeGreaterThan(100);
      expect(text, name).not.toMatch(/https?:\/\/(?!github\.com\/owner|example\.com)/);
      expect(text, name).not.toMatch(/\.innerHTML|\.outerHTML|insertAdjacentHTML\(|document\.write|\blocalStorage\s*[.[]/);
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("answers 404 in the API's envelope for a file it does not have", async () => {
    const { assets } = await page();
    const version = assets[0]!.split("/")[2]!;
    for (const name of ["nope.js", "constructor", "__proto__"]) {
      const res = await SELF.fetch(`${ORIGIN}/console/${version}/${name}`);
      expect(res.status, name).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
  });
});
