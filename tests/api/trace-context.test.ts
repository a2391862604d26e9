/** Unit: W3C traceparent parsing and generation. */
import { describe, expect, it } from "vitest";
import { childTraceparent, newTraceparent, parseTraceparent } from "#api/trace-context.js";

describe("traceparent", () => {
  it("parses the W3C example and refuses malformed or all-zero values", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      parentId: "00f067aa0ba902b7",
      flags: "01",
    });
    for (const bad of [
      null,
      "",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ]) {
      expect(parseTraceparent(bad)).toBeNull();
    }
  });

  it("generates valid traces, and children keep the trace id with a new span id", () => {
    const root = newTraceparent();
    const parsed = parseTraceparent(root)!;
    expect(parsed.flags).toBe("01");
    const child = parseTraceparent(childTraceparent(root))!;
    expect(child.traceId).toBe(parsed.traceId);
    expect(child.parentId).not.toBe(parsed.parentId);
    expect(parseTraceparent(newTraceparent())!.traceId).not.toBe(parsed.traceId);
  });
});
