/**
 * The GitHub App (docs/github.md): its id, private key and webhook secret (set together, or
 * not at all: then the integration is off and its webhook answers 404), the API it talks to,
 * where webhooks may come from, the App-wide task defaults, and the address links point to.
 * The private key and the webhook secret are secrets (`wrangler secret put`).
 * @module
 */
import { z } from "zod";
import type { CidrRange } from "#api/cidr.js";
import { parseAppDefaults, type RepoConfig } from "../github/repo-config.js";
import { parseAllowedSources } from "../github/webhook-sources.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

const optionalText = z
  .string()
  .optional()
  .transform((text) => (text?.trim() ? text : null));

export const GitHubSettings = settingsSlice(
  {
    /** The App's id (a number, on the App's settings page). */
    appId: ["GITHUB_APP_ID", optionalText],
    /** The App's private key, PEM (PKCS#1 as GitHub hands it out, or PKCS#8). A secret. */
    privateKey: ["GITHUB_APP_PRIVATE_KEY", optionalText],
    /** The App's webhook secret: every delivery's `X-Hub-Signature-256` is checked with it. A secret. */
    webhookSecret: ["GITHUB_WEBHOOK_SECRET", optionalText],
    /** GitHub's REST API (GitHub Enterprise Server: `https://<host>/api/v3`). */
    apiUrl: ["GITHUB_API_URL", z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default("https://api.github.com")],
    /** Where deliveries may come from: unset (anywhere; the signature decides), `github` (GitHub's published hook ranges) or a comma list of CIDRs. */
    allowedSources: ["GITHUB_WEBHOOK_ALLOWED_SOURCES", optionalText],
    /** App-wide task defaults as JSON, with the keys of `.codeforge.yml` (a repository's own file wins). */
    defaults: ["GITHUB_DEFAULTS", optionalText],
    /** The edge's public address, for links in replies; default: the address GitHub delivers to. */
    publicUrl: ["CODEFORGE_PUBLIC_URL", z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional()],
  },
  (s, problem) => {
    const set = [s.appId, s.privateKey, s.webhookSecret].filter((v) => v !== null).length;
    if (set > 0 && set < 3) problem("GITHUB_APP_ID", "GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET are set together, or none of them");
    if (s.appId !== null && !/^[0-9]{1,20}$/.test(s.appId)) problem("GITHUB_APP_ID", "must be the App's numeric id");
    let allowedSources: readonly CidrRange[] | null = null;
    const sources = parseAllowedSources(s.allowedSources ?? undefined);
    if (!sources.ok) problem("GITHUB_WEBHOOK_ALLOWED_SOURCES", sources.problem);
    else allowedSources = sources.ranges;
    let defaults: Partial<RepoConfig> = {};
    if (s.defaults !== null) {
      const parsed = parseAppDefaults(s.defaults);
      if (!parsed.ok) problem("GITHUB_DEFAULTS", parsed.problem);
      else defaults = parsed.config;
    }
    const publicUrl = s.publicUrl?.replace(/\/+$/, "") ?? null;
    const github =
      set === 3
        ? {
            appId: s.appId!,
            privateKey: s.privateKey!,
            webhookSecret: s.webhookSecret!,
            apiUrl: s.apiUrl.replace(/\/+$/, ""),
            allowedSources,
            defaults,
            publicUrl,
          }
        : null;
    return { github };
  },
);
export type GitHubConfig = NonNullable<ConfigOf<typeof GitHubSettings>["github"]>;
