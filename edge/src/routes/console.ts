/**
 * The web console: hand-written ES modules and CSS under `edge/console/`, imported into the
 * Worker as Text modules (wrangler.toml `[[rules]]`) and served from here — no CDN, no build
 * step, so it works offline under `npm start`. `/` and the console's client-side routes answer
 * the same `index.html`; its scripts and style live at `/console/<version>/<file>`, where the
 * version is a digest of every file, so they can be cached for good. The page signs in with
 * `POST /api/v1/session` and then calls the public API with the session cookie.
 * @module
 */
import { Hono } from "hono";
import { ApiError } from "../api-error.js";
import { type CachePolicy, type StaticAsset, staticAsset } from "../http/static-asset.js";
import adminKeysPage from "../../console/admin-keys-page.js";
import adminPages from "../../console/admin-pages.js";
import api from "../../console/api.js";
import app from "../../console/app.js";
import css from "../../console/console.css";
import deliveriesView from "../../console/deliveries-view.js";
import dom from "../../console/dom.js";
import eventRows from "../../console/event-rows.js";
import indexHtml from "../../console/index.html";
import logView from "../../console/log-view.js";
import newTaskPage from "../../console/new-task-page.js";
import resultView from "../../console/result-view.js";
import signInPage from "../../console/sign-in-page.js";
import taskListPage from "../../console/task-list-page.js";
import taskPage from "../../console/task-page.js";
import taskStream from "../../console/task-stream.js";
import taskCss from "../../console/task.css";

const JS = "text/javascript; charset=utf-8";

/** Every file the page loads, by the name it has under `/console/<version>/`. */
const FILES: Record<string, { text: string; type: string }> = {
  "admin-keys-page.js": { text: adminKeysPage, type: JS },
  "admin-pages.js": { text: adminPages, type: JS },
  "api.js": { text: api, type: JS },
  "app.js": { text: app, type: JS },
  "console.css": { text: css, type: "text/css; charset=utf-8" },
  "deliveries-view.js": { text: deliveriesView, type: JS },
  "dom.js": { text: dom, type: JS },
  "event-rows.js": { text: eventRows, type: JS },
  "log-view.js": { text: logView, type: JS },
  "new-task-page.js": { text: newTaskPage, type: JS },
  "result-view.js": { text: resultView, type: JS },
  "sign-in-page.js": { text: signInPage, type: JS },
  "task-list-page.js": { text: taskListPage, type: JS },
  "task-page.js": { text: taskPage, type: JS },
  "task-stream.js": { text: taskStream, type: JS },
  "task.css": { text: taskCss, type: "text/css; charset=utf-8" },
};

/** The paths the console's router handles in the page; each is answered with `index.html`. */
export const CONSOLE_PAGES = ["/", "/tasks", "/tasks/:id", "/new", "/admin/runners", "/admin/keys", "/admin/audit"] as const;

/** Where the page's scripts and stylesheets are. */
export const CONSOLE_FILES_PATH = "/console/:version/:file";

/**
 * Only the Worker's own origin: scripts and styles from `/console/…`, API calls and the task
 * stream (WebSocket, SSE) to the same host; nothing inline, no frames, no other origin.
 */
function contentSecurityPolicy(url: URL): string {
  const ws = url.protocol === "https:" ? `wss://${url.host}` : `ws://${url.host}`;
  return [
    "default-src 'self'",
    `connect-src 'self' ${ws}`,
    "img-src 'self' data:",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

interface Served {
  version: string;
  page: StaticAsset;
  /** Each file twice: cached for good under the current version, revalidated under another. */
  files: Map<string, Record<CachePolicy, StaticAsset>>;
}

let served: Promise<Served> | undefined;

/**
 * The version is a digest of every file's ETag, so it changes with any of them; the page names
 * it. Worked out once per isolate: the files are part of the Worker and never change under it.
 */
function serve(): Promise<Served> {
  served ??= (async () => {
    const files = new Map<string, Record<CachePolicy, StaticAsset>>();
    for (const [name, { text, type }] of Object.entries(FILES)) {
      const asset = (cache: CachePolicy) => staticAsset({ body: text, contentType: type, cache, headers: { "X-Content-Type-Options": "nosniff" } });
      files.set(name, { immutable: asset("immutable"), "no-cache": asset("no-cache") });
    }
    const etags = await Promise.all([...files.values()].map((f) => f.immutable.etag()));
    const version = (await staticAsset({ body: etags.join(""), contentType: "text/plain", cache: "no-cache" }).etag()).slice(1, 13);
    // The page's CSP names the host it was asked for (the WebSocket's origin), so it is added per request.
    const page = staticAsset({ body: indexHtml.replaceAll("{{VERSION}}", version), contentType: "text/html; charset=utf-8", cache: "no-cache" });
    return { version, page, files };
  })();
  return served;
}

function withPolicy(response: Response, request: Request): Response {
  const headers = new Headers(response.headers);
  headers.set("Content-Security-Policy", contentSecurityPolicy(new URL(request.url)));
  headers.set("X-Content-Type-Options", "nosniff");
  return new Response(response.body, { status: response.status, headers });
}

export const consoleRoutes = new Hono();
for (const path of CONSOLE_PAGES) consoleRoutes.get(path, async (c) => withPolicy(await (await serve()).page.respond(c.req.raw), c.req.raw));
consoleRoutes.get(CONSOLE_FILES_PATH, async (c) => {
  const name = c.req.param("file");
  const { version, files } = await serve();
  const file = files.get(name);
  if (!file) throw new ApiError("not_found", `the console has no file ${name}`);
  // An older page asking for its version gets today's file, revalidated rather than kept.
  return (c.req.param("version") === version ? file.immutable : file["no-cache"]).respond(c.req.raw);
});
