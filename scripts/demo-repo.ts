/**
 * Makes a small git repository to run tasks against, as a local bare repository reachable by a
 * `file://` URL (which runners accept in local mode only).
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const FILES: Record<string, string> = {
  "README.md": "# Demo project\n\nA tiny repository that CodeForge's demo tasks edit.\n",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the demo repository's JavaScript source, written as it is
  "src/greet.js": "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n",
  "package.json": '{\n  "name": "demo-project",\n  "version": "1.0.0",\n  "type": "module"\n}\n',
};

/** Creates (once) a bare repository at `path` with one commit on `main`; returns its URL. */
export function ensureDemoRepo(path: string): string {
  if (!existsSync(join(path, "HEAD"))) {
    const work = mkdtempSync(join(tmpdir(), "codeforge-demo-"));
    try {
      for (const [file, content] of Object.entries(FILES)) {
        mkdirSync(join(work, file, ".."), { recursive: true });
        writeFileSync(join(work, file), content);
      }
      const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, stdio: "ignore" });
      git(work, "init", "--quiet", "--initial-branch=main");
      git(work, "add", "-A");
      git(work, "-c", "user.name=CodeForge Demo", "-c", "user.email=demo@codeforge.invalid", "commit", "--quiet", "-m", "Initial commit");
      mkdirSync(path, { recursive: true });
      git(path, "init", "--quiet", "--bare", "--initial-branch=main");
      git(work, "push", "--quiet", path, "main");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return pathToFileURL(path).href;
}
