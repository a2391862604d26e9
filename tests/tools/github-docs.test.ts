// docs/github.md against the code: the App manifest asks for exactly the events CodeForge acts
// on and the permissions its tokens use, at the webhook's path; the settings table names the
// settings the edge reads; the `.codeforge.yml` table and example match the parser and its
// defaults.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_TOKEN_PERMISSIONS } from "../../edge/src/github/github-app.js";
import { BUILT_IN_DEFAULTS, parseRepoConfig, RepoConfig } from "../../edge/src/github/repo-config.js";
import { classifyDelivery } from "../../edge/src/github/triggers.js";
import { githubWebhook } from "../../edge/src/routes/github.routes.js";
import { GitHubSettings } from "../../edge/src/settings/github-settings.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";

const doc = readFileSync(join(PROJECT_ROOT, "docs", "github.md"), "utf8");

/** The lines of `doc` from the heading `heading` to the next heading of its level or above. */
function section(heading: string): string {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, `docs/github.md has no "${heading}"`).toBeGreaterThan(0);
  const level = heading.split(" ")[0]!;
  const rest = doc.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return end === -1 ? rest : rest.slice(0, end);
}

/** The first-column names of a Markdown table in `text`. */
const firstColumn = (text: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .flatMap((line) => [...line.split("|")[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

const manifest = JSON.parse(doc.match(/name="manifest" value='([^']+)'/)![1]!) as {
  hook_attributes: { url: string };
  public: boolean;
  default_permissions: Record<string, string>;
  default_events: string[];
};

describe("docs/github.md", () => {
  it("gives a manifest for the webhook's path, with the events CodeForge acts on and no others", () => {
    expect(new URL(manifest.hook_attributes.url.replace("<your edge>", "edge.example")).pathname).toBe(githubWebhook.path);
    expect(manifest.public).toBe(false);
    const settings = { trigger: "@codeforge", label: "codeforge" };
    const actedOn = (event: string) => {
      const classified = classifyDelivery(event, { action: "x" }, settings);
      return !(classified.kind === "ignored" && classified.reason === `event "${event}" is not one CodeForge acts on`);
    };
    for (const event of manifest.default_events) expect(actedOn(event), event).toBe(true);
    const others = ["pull_request", "push", "create", "delete", "label", "installation", "check_run", "discussion_comment", "commit_comment", "release"];
    for (const event of others) expect(actedOn(event), event).toBe(false);
  });

  it("asks for the permissions the installation tokens use, and metadata, nothing more", () => {
    expect(manifest.default_permissions).toEqual({ ...DEFAULT_TOKEN_PERMISSIONS, metadata: "read" });
  });

  it("documents every GitHub setting the edge reads", () => {
    expect(firstColumn(section("## Settings")).sort()).toEqual([...GitHubSettings.variables].sort());
  });

  it("documents every .codeforge.yml key with its default, and its example parses", () => {
    const table = section("## `.codeforge.yml`");
    expect(firstColumn(table).sort()).toEqual(Object.keys(RepoConfig.shape).sort());
    for (const line of table.split("\n").filter((l) => l.startsWith("| `"))) {
      const [, key, , defaults] = line.split("|").map((cell) => cell.trim());
      const name = key!.replaceAll("`", "") as keyof typeof BUILT_IN_DEFAULTS;
      const builtIn = BUILT_IN_DEFAULTS[name];
      if (builtIn !== null) expect(defaults, name).toBe(`\`${builtIn}\``);
    }
    const example = table.match(/```yaml\n([\s\S]*?)```/)![1]!;
    expect(parseRepoConfig(example)).toMatchObject({ ok: true });
  });
});
