/**
 * Unit: how `codeforge watch`/`logs` print events — here, a connection the sandbox's egress
 * policy refused: one line with host, port and why.
 */
import { describe, expect, it } from "vitest";
import type { StreamEvent } from "../../api/stream-events.js";
import { renderEvent } from "../../client/render-event.js";

const envelope = { seq: 7, ts: "2026-11-23T10:00:00.000Z", iteration: 1, attempt: 1 };

describe("renderEvent", () => {
  it("prints an egress_denied event as one line: egress denied: host:port (reason)", () => {
    const event: StreamEvent = { ...envelope, type: "egress_denied", host: "evil.example.net", port: 443, reason: "not in the task's egress_allow" };
    expect(renderEvent(event, { color: false })).toBe("  ✖ egress denied: evil.example.net:443 (not in the task's egress_allow)");
  });

  it("brackets an IPv6 address and keeps a multi-line reason on one line", () => {
    const event: StreamEvent = { ...envelope, type: "egress_denied", host: "fd00::1", port: 22, reason: "a private address\nrefused" };
    const line = renderEvent(event, { color: false })!;
    expect(line).toBe("  ✖ egress denied: [fd00::1]:22 (a private address refused)");
    expect(line).not.toContain("\n");
  });
});
