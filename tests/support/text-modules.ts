/**
 * wrangler.toml's Text module rules, for the Workers Vitest pool too: an import matching a
 * `type = "Text"` glob (swagger-ui's stylesheet and bundle, the console's files) gives the file's
 * text in the edge suites exactly as in the bundle `wrangler dev` and `wrangler deploy` build.
 *
 * The pool applies the rules itself only to files under the project's root: it joins the root to
 * the path Vite hands it, and a package Vite resolved through a symlink to a `node_modules`
 * outside the root (a git worktree sharing one, a hoisted monorepo) arrives as `/@fs/<real
 * path>`, which it cannot find. This plugin resolves such imports first, to a module of its own
 * whose id names no file type (so neither the pool's rules nor Vitest's CSS handling, which
 * empties stylesheets, touch it) and whose default export is the file's text.
 * @module
 */
import { readFile } from "node:fs/promises";
import { unstable_readConfig } from "wrangler";
import type { Plugin } from "vitest/config";

/** Our modules' ids: Vite's mark for a virtual module, then the file's path, base64url. */
const PREFIX = "\0codeforge-text:";

/** wrangler's glob matching (glob-to-regexp without globstar): `*` is any run of characters. */
function globRegExp(glob: string): RegExp {
  const source = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`);
}

/** The Text rules of `configPath`, and wrangler's default ones (`.txt`, `.html`, `.sql`). */
function textGlobs(configPath: string): RegExp[] {
  const { rules } = unstable_readConfig({ config: configPath }) as { rules: { type: string; globs: string[] }[] };
  const text = rules.filter((r) => r.type === "Text");
  return [...text.flatMap((r) => r.globs), "**/*.txt", "**/*.html", "**/*.sql"].map(globRegExp);
}

/** A Vite plugin giving every import that a Text rule of `configPath` matches as the file's text. */
export function textModules(configPath = "./wrangler.toml"): Plugin {
  const globs = textGlobs(configPath);
  return {
    name: "codeforge:text-modules",
    enforce: "pre",
    async resolveId(source, importer, options) {
      if (source.includes("?") || !globs.some((g) => g.test(source))) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved ? `${PREFIX}${Buffer.from(resolved.id).toString("base64url")}` : null;
    },
    async load(id) {
      if (!id.startsWith(PREFIX)) return null;
      const file = Buffer.from(id.slice(PREFIX.length), "base64url").toString("utf8");
      this.addWatchFile(file);
      return `export default ${JSON.stringify(await readFile(file, "utf8"))};`;
    },
  };
}
