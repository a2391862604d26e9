// Unit: cutting untrusted text to size and fencing it so it cannot close its fence.
import { describe, expect, it } from "vitest";
import { capText, fence, tailText } from "../../edge/src/github/untrusted-text.js";

describe("capText and tailText", () => {
  it("leave short text alone and cut long text to the limit, saying so", () => {
    expect(capText("short", 10)).toBe("short");
    const cut = capText("x".repeat(100), 50);
    expect(cut.length).toBeLessThanOrEqual(50);
    expect(cut.endsWith("[… cut]")).toBe(true);
    expect(tailText("abcdef", 3)).toBe("def");
  });

  it("never split a surrogate pair", () => {
    const emoji = "👀".repeat(40);
    const cut = capText(emoji, 20);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    const tail = tailText(emoji, 5);
    expect(tail).not.toMatch(/^[\udc00-\udfff]/);
    expect(tail.length).toBeLessThanOrEqual(5);
  });
});

describe("fence", () => {
  it("uses three backticks for plain text and one more than the longest run otherwise", () => {
    expect(fence("hello", "text")).toBe("```text\nhello\n```");
    expect(fence("a ```` b\n```\n")).toBe("`````\na ```` b\n```\n`````");
  });
});
