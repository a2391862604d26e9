// Integration: workspace directories on the real file system.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confine, createWorkspace } from "../../runner/src/workspace/workspace.js";

let root: string;
beforeAll(() => {
  root = path.join(mkdtempSync(path.join(os.tmpdir(), "codeforge-ws-")), "root");
});
afterAll(() => rmSync(path.dirname(root), { recursive: true, force: true }));

describe("workspace", () => {
  it("creates a private, uniquely named directory under the root with home/ and tmp/, and removes it", async () => {
    const a = await createWorkspace({ root, taskId: "tsk_abc", attempt: 2 });
    const b = await createWorkspace({ root, taskId: "tsk_abc", attempt: 2 });
    expect(a.dir).not.toBe(b.dir);
    expect(path.basename(a.dir)).toMatch(/^tsk_abc-a2-[0-9a-f]{12}$/);
    expect(path.dirname(a.dir)).toBe(path.resolve(root));
    expect(statSync(a.dir).mode & 0o777).toBe(0o700);
    expect(existsSync(a.homeDir) && existsSync(a.tmpDir)).toBe(true);
    expect(a.repoDir).toBe(path.join(a.dir, "repo"));
    writeFileSync(path.join(a.tmpDir, "junk"), "x");
    await a.remove();
    await a.remove();
    expect(existsSync(a.dir)).toBe(false);
    expect(existsSync(b.dir)).toBe(true);
    await b.remove();
  });

  it("refuses task ids that could leave the root", async () => {
    await expect(createWorkspace({ root, taskId: "../../etc", attempt: 1 })).rejects.toThrow(/task id/);
    await expect(createWorkspace({ root, taskId: "a/b", attempt: 1 })).rejects.toThrow(/task id/);
  });

  it("confine() accepts only paths strictly inside the root", () => {
    expect(confine("/srv/ws", "/srv/ws/a/b")).toBe("/srv/ws/a/b");
    expect(() => confine("/srv/ws", "/srv/ws/../etc")).toThrow(/escapes/);
    expect(() => confine("/srv/ws", "/srv/wsx")).toThrow(/escapes/);
    expect(() => confine("/srv/ws", "/srv/ws")).toThrow(/escapes/);
  });
});
