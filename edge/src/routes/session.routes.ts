/**
 * Route definitions of console sign-in: a session cookie in place of the bearer key. Served by
 * `session.ts`.
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { SESSION_COOKIE } from "#api/session.js";
import { BODY_ERRORS, COMMON_ERRORS, body, errorResponse, json } from "./openapi-parts.js";

const tags = ["session"];

const setCookie = (description: string) => ({ "Set-Cookie": { description, schema: { type: "string" as const } } });

const CSRF_TOKEN_HEADER = {
  name: "X-CSRF-Token",
  in: "header" as const,
  required: true,
  description: "The session's `csrf_token`.",
  schema: { type: "string" as const },
};

export const createSession = createRoute({
  method: "post",
  path: "/api/v1/session",
  operationId: "createSession",
  tags,
  summary: "Sign in: exchange an API key for a session cookie",
  description: [
    `Send the key in the body, not in \`Authorization\`. The answer sets \`${SESSION_COOKIE}\` (\`HttpOnly; SameSite=Strict; Path=/; Max-Age=<SESSION_TTL_SECONDS>\`, and \`Secure\` over https), which every \`/api/v1\` route then accepts in place of \`Authorization: Bearer\`, with the key's permissions.`,
    "The cookie holds the key's SHA-256, never the key; the key is checked again on every request, so revoking it ends its sessions.",
    "Cookie-authenticated requests other than GET, HEAD and OPTIONS must send `X-CSRF-Token: <csrf_token>` (else 403). A bad key counts as a failed authentication (see the 429).",
  ].join("\n\n"),
  security: [],
  request: { body: body("CreateSessionRequest", { required: true, example: { api_key: "cf_key_..." } }) },
  responses: {
    201: {
      description: "Signed in",
      headers: {
        ...setCookie(`\`${SESSION_COOKIE}=<sealed>; Max-Age=<seconds>; Path=/; HttpOnly; SameSite=Strict\` (\`; Secure\` over https)`),
        "Cache-Control": { description: "`no-store`", schema: { type: "string" } },
      },
      ...json("Session"),
    },
    400: COMMON_ERRORS[400],
    401: errorResponse("The key is unknown, revoked, expired or rotated out."),
    403: errorResponse("The key may not be used from this address (its `allowed_cidrs`)."),
    429: COMMON_ERRORS[429],
    503: errorResponse("The edge has neither `SESSION_SECRET` nor `TASK_SECRETS_KEY` to seal sessions with."),
    ...BODY_ERRORS,
  },
});

export const getSession = createRoute({
  method: "get",
  path: "/api/v1/session",
  operationId: "getSession",
  tags,
  summary: "The current session (after a page reload: its CSRF token)",
  security: [{ sessionCookie: [] }],
  responses: {
    200: { description: "The session", headers: { "Cache-Control": { description: "`no-store`", schema: { type: "string" } } }, ...json("Session") },
    401: errorResponse("No session cookie, or an expired or invalid one, or its key no longer works; the answer clears the cookie."),
    403: COMMON_ERRORS[403],
    429: COMMON_ERRORS[429],
  },
});

export const deleteSession = createRoute({
  method: "delete",
  path: "/api/v1/session",
  operationId: "deleteSession",
  tags,
  summary: "Sign out: clear the session cookie",
  description: "Sessions are stateless: this clears the browser's cookie. A copy of the cookie taken earlier works until it expires or its key is revoked.",
  security: [{ sessionCookie: [] }],
  parameters: [CSRF_TOKEN_HEADER],
  responses: {
    204: { description: "Signed out", headers: setCookie(`\`${SESSION_COOKIE}=; Max-Age=0; …\`: the browser drops the cookie.`) },
    401: errorResponse("No session cookie, or an expired or invalid one; the answer clears the cookie."),
    403: errorResponse("No or the wrong `X-CSRF-Token`."),
    429: COMMON_ERRORS[429],
  },
});
