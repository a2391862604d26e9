/**
 * Serving a file the Worker carries in its bundle: the API reference's swagger-ui and the
 * console's pages, scripts and styles are imported as Text modules (wrangler.toml's
 * `[[rules]]`), so they are served offline with no CDN and no assets directory.
 *
 * Each answer carries its Content-Type, a strong ETag (a SHA-256 of the text, computed once per
 * isolate, on first use), Content-Length and a cache policy: `immutable` for names that change
 * when their content does (a version or hash in the path), `no-cache` for entry points whose
 * name stays (a page, which the browser revalidates every time and gets back as a 304 when
 * unchanged). `If-None-Match` is answered with 304; HEAD gets the headers without the body.
 * @module
 */

/** How long a browser may keep the file without asking again. */
export type CachePolicy = "immutable" | "no-cache";

const CACHE_CONTROL: Record<CachePolicy, string> = {
  // A year, the longest RFC 9111 advises; the name changes before the content does.
  immutable: "public, max-age=31536000, immutable",
  // Kept, but revalidated on every use: a 304 when the ETag still matches.
  "no-cache": "no-cache",
};

/** Hex digits of the SHA-256 kept in the ETag: 128 bits, ample to tell versions of a file apart. */
const ETAG_HEX_CHARS = 32;

export interface StaticAssetOptions {
  /** The file's text, as its Text module import gives it. */
  body: string;
  /** e.g. `text/css; charset=utf-8`. */
  contentType: string;
  cache: CachePolicy;
  /** Added to every answer, 304s included (e.g. a page's Content-Security-Policy). */
  headers?: Record<string, string>;
}

export interface StaticAsset {
  /** The answer to a GET or HEAD of this file (the caller routes other methods elsewhere). */
  respond(request: Request): Promise<Response>;
  /** The ETag (quoted), for tests and for pages that name the file by it. */
  etag(): Promise<string>;
}

/**
 * One servable file.
 * @example
 * import css from "swagger-ui-dist/swagger-ui.css";
 * const stylesheet = staticAsset({ body: css, contentType: "text/css; charset=utf-8", cache: "immutable" });
 * app.get("/assets/swagger-ui-5.35.0.css", (c) => stylesheet.respond(c.req.raw));
 */
export function staticAsset({ body, contentType, cache, headers = {} }: StaticAssetOptions): StaticAsset {
  let facts: Promise<{ etag: string; length: number }> | undefined;
  const describe = () => {
    facts ??= digest(body);
    return facts;
  };
  return {
    async etag() {
      return (await describe()).etag;
    },
    async respond(request) {
      const { etag, length } = await describe();
      const common = { ...headers, ETag: etag, "Cache-Control": CACHE_CONTROL[cache] };
      if (matches(request.headers.get("If-None-Match"), etag)) return new Response(null, { status: 304, headers: common });
      const full = { ...common, "Content-Type": contentType, "Content-Length": String(length) };
      return new Response(request.method === "HEAD" ? null : body, { status: 200, headers: full });
    },
  };
}

async function digest(body: string): Promise<{ etag: string; length: number }> {
  const bytes = new TextEncoder().encode(body);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { etag: `"${hex.slice(0, ETAG_HEX_CHARS)}"`, length: bytes.byteLength };
}

/** `If-None-Match` against our ETag: `*` or any listed tag, compared weakly (RFC 9110 §13.1.2). */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  if (ifNoneMatch.trim() === "*") return true;
  return ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
