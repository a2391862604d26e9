/**
 * The console's API client. Signing in exchanges the pasted key for the edge's session cookie
 * (`POST /api/v1/session`; HttpOnly, so this script never holds the key afterwards, and nothing
 * is kept in localStorage); every later call rides on the cookie, and unsafe methods carry the
 * session's CSRF token in `X-CSRF-Token`, which the edge requires.
 * @module
 */

let csrfToken = null;
let onSignedOut = () => {};

/** An error the API answered with: its HTTP status and the envelope's code, message and field. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field ?? null;
  }
}

/** Called when the session has ended under the page (expired, key revoked). */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/**
 * Calls the API. `path` is under `/api/v1` (or a full `/api/v1/…` path from a `links` field).
 * @example await api("/tasks", { method: "POST", json: request })
 */
export async function api(path, { method = "GET", json, signal } = {}) {
  const headers = { accept: "application/json" };
  if (json !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const url = path.startsWith("/api/") ? path : `/api/v1${path}`;
  const res = await fetch(url, { method, headers, body: json === undefined ? undefined : JSON.stringify(json), credentials: "same-origin", signal });
  if (res.status === 204) return null;
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const error = body?.error;
    if (res.status === 401 && path !== "/session") {
      csrfToken = null;
      onSignedOut();
    }
    throw new ApiError(res.status, error?.code ?? "http_error", error?.message ?? `HTTP ${res.status}`, error?.field);
  }
  return body;
}

/** Signs in with an API key; the key goes to the edge once and is not kept here. */
export async function signIn(apiKey) {
  const session = await api("/session", { method: "POST", json: { api_key: apiKey } });
  csrfToken = session.csrf_token;
  return session;
}

/** The current session (after a reload: the cookie is still there), or null when signed out. */
export async function currentSession() {
  try {
    const session = await api("/session");
    csrfToken = session.csrf_token;
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function signOut() {
  try {
    await api("/session", { method: "DELETE" });
  } finally {
    csrfToken = null;
  }
}
