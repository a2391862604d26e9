// Unit: the packed form of a CLI session that comes back from the edge in a later lease. It
// round-trips files exactly, and refuses what a tampered or hostile archive could do: grow past
// the size limit while inflating, name paths outside HOME, or lie about its sizes.
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { packSession, SESSION_FILES_MAX_BYTES, unpackSession } from "../../runner/src/cli-session/session-archive.js";

const archiveOf = (header: unknown, body = "") => gzipSync(Buffer.from(`${JSON.stringify(header)}\n${body}`));

describe("session archives", () => {
  it("round-trip files, binary and empty ones included", () => {
    const files = [
      { path: ".claude/projects/-workspace/abc.jsonl", data: Buffer.from('{"type":"user"}\n') },
      { path: ".claude/projects/-workspace/abc/subagents/a.jsonl", data: Buffer.from([0, 255, 10, 13]) },
      { path: ".codex/sessions/2026/12/02/rollout-abc.jsonl", data: Buffer.alloc(0) },
    ];
    const unpacked = unpackSession(packSession(files));
    expect(unpacked.map((f) => ({ path: f.path, data: Buffer.from(f.data) }))).toEqual(files);
  });

  it("refuse one that inflates past the size limit, however small it is packed", () => {
    const bomb = gzipSync(Buffer.alloc(SESSION_FILES_MAX_BYTES + 2 * 1_048_576));
    expect(bomb.length).toBeLessThan(1_048_576);
    expect(() => unpackSession(bomb)).toThrow("it unpacks to more than the session size limit");
  });

  it.each([["../outside"], ["/etc/passwd"], [".claude/../../x"], ["a//b"], ["./a"], ["a\\..\\b"], [""]])("refuse the path %j", (name) => {
    expect(() => unpackSession(archiveOf({ v: 1, files: [{ path: name, bytes: 1 }] }, "x"))).toThrow("it names a path outside HOME");
  });

  it("refuse sizes that do not add up, and what is not an archive", () => {
    expect(() => unpackSession(archiveOf({ v: 1, files: [{ path: "a", bytes: 5 }] }, "abc"))).toThrow("its sizes do not add up");
    expect(() => unpackSession(archiveOf({ v: 1, files: [{ path: "a", bytes: 1 }] }, "abc"))).toThrow("its sizes do not add up");
    expect(() => unpackSession(archiveOf({ v: 2, files: [] }))).toThrow("its header is not one this runner reads");
    expect(() => unpackSession(Buffer.from("plain text"))).toThrow("it is not a gzip stream");
  });
});
