/**
 * No Docker engine runs here, so the image is checked where it can be: it starts the runner
 * with exactly the command the tests and `npm start` use, as a non-root user under tini, and
 * ships what that command needs — bubblewrap included, since the runner refuses to start
 * without a sandbox.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT, RUNNER_COMMAND } from "../../scripts/local-stack.js";

// Continuation lines joined, so each instruction is one line.
const dockerfile = readFileSync(join(PROJECT_ROOT, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
const finalStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
const instruction = (name: string) => finalStage.match(new RegExp(`^${name} (.+)$`, "m"))?.[1];

describe("Dockerfile", () => {
  it("runs the runner with the tested start command under tini", () => {
    expect(JSON.parse(instruction("ENTRYPOINT")!)).toEqual(["/usr/bin/tini", "--", ...RUNNER_COMMAND]);
  });

  it("runs as a non-root user on a supported Node, with git, and checks /healthz", () => {
    expect(instruction("USER")).toMatch(/^codeforge$/);
    expect(finalStage).toMatch(/^FROM node:(22|24)-/m);
    expect(finalStage).toMatch(/apt-get install[^\n]*\bgit\b[^\n]*\bca-certificates\b[^\n]*\btini\b/);
    expect(instruction("HEALTHCHECK")).toContain("/healthz");
  });

  it("installs bubblewrap in the runtime stage, where the runner builds each attempt's sandbox", () => {
    const installs = finalStage
      .match(/^RUN apt-get update .*apt-get install -y --no-install-recommends ([^&]+)/m)?.[1]
      ?.trim()
      .split(/\s+/);
    // Each package pinned to a version (`name=version`), so a rebuild installs what was reviewed.
    for (const pkg of installs ?? []) expect(pkg).toMatch(/^[a-z0-9.+-]+=\S+$/);
    expect(installs?.map((pkg) => pkg.split("=")[0])).toEqual(expect.arrayContaining(["git", "ca-certificates", "tini", "bubblewrap"]));
  });

  it("copies every directory the runner imports from", () => {
    for (const dir of ["api", "runner"]) expect(finalStage).toMatch(new RegExp(`^COPY ${dir} \\./${dir}$`, "m"));
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain("tsx"); // the image installs production dependencies only
  });
});
