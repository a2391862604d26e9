/**
 * The OpenAPI document (`/api/v1/openapi.json`, generated from the contract and committed as
 * `api/openapi.json`) and a browsable reference page (`/api/v1/docs`). Public: no key needed.
 *
 * The page is swagger-ui, served entirely by the Worker so it works offline: its stylesheet and
 * prebuilt bundle are imported as Text modules and served under names carrying swagger-ui's
 * version (cached for a year); the page and the script that starts swagger-ui are ours and
 * revalidated on every load. The page's Content-Security-Policy allows nothing from elsewhere:
 * scripts, styles and requests only from this origin (no inline script), images also from
 * `data:` URLs (the icons swagger-ui's stylesheet embeds).
 * @module
 */
import { Hono } from "hono";
import swaggerUi from "swagger-ui-dist/package.json";
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import swaggerCss from "swagger-ui-dist/swagger-ui.css";
import openapi from "#api/openapi.json";
import { ApiError } from "../api-error.js";
import { staticAsset } from "../http/static-asset.js";

const DOCUMENT_URL = "/api/v1/openapi.json";
const ASSETS_URL = "/api/v1/docs/assets";
const STYLESHEET = `swagger-ui-${swaggerUi.version}.css`;
const BUNDLE = `swagger-ui-bundle-${swaggerUi.version}.js`;
const START = "start-swagger-ui.js";

const JAVASCRIPT = "text/javascript; charset=utf-8";

export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CodeForge API</title>
<link rel="stylesheet" href="${ASSETS_URL}/${STYLESHEET}">
</head>
<body>
<div id="swagger-ui" data-document="${DOCUMENT_URL}"></div>
<noscript><p>This reference needs JavaScript. The OpenAPI document itself is at <a href="${DOCUMENT_URL}">${DOCUMENT_URL}</a>.</p></noscript>
<script src="${ASSETS_URL}/${BUNDLE}"></script>
<script src="${ASSETS_URL}/${START}"></script>
</body>
</html>
`;

// Served as a file, not inline, so the page's CSP needs no 'unsafe-inline'. No validator badge
// (it would call validator.swagger.io), no `?url=` override, authorisations kept in memory only.
const START_SCRIPT = `"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.document,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    queryConfigEnabled: false,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
`;

const page = staticAsset({
  body: PAGE,
  contentType: "text/html; charset=utf-8",
  cache: "no-cache",
  headers: { "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY },
});

/** The page's files by name. */
const assets = new Map([
  [STYLESHEET, staticAsset({ body: swaggerCss, contentType: "text/css; charset=utf-8", cache: "immutable" })],
  [BUNDLE, staticAsset({ body: swaggerBundle, contentType: JAVASCRIPT, cache: "immutable" })],
  [START, staticAsset({ body: START_SCRIPT, contentType: JAVASCRIPT, cache: "no-cache" })],
]);

export const apiDocsRoutes = new Hono()
  .get("/openapi.json", (c) => c.json(openapi))
  .get("/docs", (c) => page.respond(c.req.raw))
  .get("/docs/assets/:file", (c) => {
    const asset = assets.get(c.req.param("file"));
    if (!asset) throw new ApiError("not_found", `no such file under ${ASSETS_URL}`);
    return asset.respond(c.req.raw);
  });
