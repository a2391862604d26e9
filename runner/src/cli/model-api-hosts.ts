/**
 * The model API hosts a CLI talks to, as egress host patterns.
 *
 * An agent in a sandbox reaches only the hosts its egress policy allows, and by default that
 * includes the API of the model its CLI is configured for: the provider's usual host, or the
 * host of a base URL the runner's `cli_env` sets (a proxy or a self-hosted endpoint). A base URL
 * on a non-default port yields `host:port`; one that is not a valid URL is ignored here (the
 * CLI will fail on it with its own message).
 * @module
 */
import { parseEgressHost } from "#api/index.js";

/**
 * @example
 * modelApiHosts(["api.anthropic.com"], env, ["ANTHROPIC_BASE_URL"]);
 * // ["api.anthropic.com", "llm-proxy.internal:8443"] with ANTHROPIC_BASE_URL=https://llm-proxy.internal:8443
 */
export function modelApiHosts(defaults: readonly string[], env: Readonly<Record<string, string>> | undefined, baseUrlVariables: readonly string[]): string[] {
  const hosts = new Set(defaults);
  for (const name of baseUrlVariables) {
    const value = env?.[name];
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const pattern = url.port ? `${host}:${url.port}` : host;
    if (parseEgressHost(pattern).ok) hosts.add(pattern);
  }
  return [...hosts];
}
