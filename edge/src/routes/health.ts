/**
 * Liveness and readiness. Never authenticated, never rate limited.
 * @module
 */
import { Hono } from "hono";
import { edgeConfig, type Env } from "../env.js";

export const healthRoutes = new Hono<{ Bindings: Env }>()
  .get("/health", (c) => c.json({ status: "ok" }))
  .get("/ready", (c) => {
    const failing: string[] = [];
    try {
      const config = edgeConfig(c.env);
      if (!config.adminKey) failing.push("CODEFORGE_ADMIN_KEY is not set: no client can authenticate");
      if (config.runnerSecrets.length === 0) failing.push("RUNNER_SECRETS is not set: no runner can connect");
    } catch (err) {
      failing.push(err instanceof Error ? err.message : "configuration is invalid");
    }
    return failing.length ? c.json({ status: "unavailable", failing }, 503) : c.json({ status: "ready" });
  });
