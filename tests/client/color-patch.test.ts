/**
 * Unit: how `codeforge diff` colours a patch on a terminal (file headers bold, hunk headers
 * cyan, added green, removed red) and that without colour it is the patch, unchanged.
 */
import { describe, expect, it } from "vitest";
import { colorPatch } from "../../client/cli/color-patch.js";

const PATCH = [
  "diff --git a/notes.md b/notes.md",
  "index 3b18e51..a2c1f0e 100644",
  "--- a/notes.md",
  "+++ b/notes.md",
  "@@ -1,3 +1,3 @@ heading",
  " kept",
  "-old",
  "--- a removed line that looks like a header",
  "+new",
  "+++ an added line that looks like a header",
  "",
].join("\n");

describe("colorPatch", () => {
  it("returns the patch byte for byte without colour", () => {
    expect(colorPatch(PATCH, false)).toBe(PATCH);
  });

  it("colours headers bold, hunk headers cyan, added lines green and removed lines red, by position not by look", () => {
    const lines = colorPatch(PATCH, true).split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "\x1b[1mdiff --git a/notes.md b/notes.md\x1b[0m",
      "\x1b[1mindex 3b18e51..a2c1f0e 100644\x1b[0m",
      "\x1b[1m--- a/notes.md\x1b[0m",
      "\x1b[1m+++ b/notes.md\x1b[0m",
    ]);
    expect(lines[4]).toBe("\x1b[36m@@ -1,3 +1,3 @@ heading\x1b[0m");
    expect(lines[5]).toBe(" kept");
    expect(lines[6]).toBe("\x1b[31m-old\x1b[0m");
    expect(lines[7]).toBe("\x1b[31m--- a removed line that looks like a header\x1b[0m");
    expect(lines[8]).toBe("\x1b[32m+new\x1b[0m");
    expect(lines[9]).toBe("\x1b[32m+++ an added line that looks like a header\x1b[0m");
    expect(lines[10]).toBe("");
  });

  it("starts a new file's headers after a hunk", () => {
    const two = `${PATCH}diff --git a/b.txt b/b.txt\nnew file mode 100644\n--- /dev/null\n+++ b/b.txt\n@@ -0,0 +1 @@\n+b\n`;
    const lines = colorPatch(two, true).split("\n");
    expect(lines.slice(10, 16)).toEqual([
      "\x1b[1mdiff --git a/b.txt b/b.txt\x1b[0m",
      "\x1b[1mnew file mode 100644\x1b[0m",
      "\x1b[1m--- /dev/null\x1b[0m",
      "\x1b[1m+++ b/b.txt\x1b[0m",
      "\x1b[36m@@ -0,0 +1 @@\x1b[0m",
      "\x1b[32m+b\x1b[0m",
    ]);
  });
});
