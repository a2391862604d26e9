// Unit: which GitHub deliveries start or steer a task, from GitHub's documented example payloads.
import { describe, expect, it } from "vitest";
import { afterTrigger, classifyDelivery, INSTRUCTION_MAX_CHARS, SUBJECT_BODY_MAX_CHARS, screenEvent } from "../../edge/src/github/triggers.js";
import { examplePayload, INSTALLATION_ID } from "./example-payloads.js";

const SETTINGS = { trigger: "@codeforge", label: "codeforge" };

function comment(body: string | null) {
  const p = examplePayload("issue_comment", "created");
  p.comment.body = body as string;
  return p;
}

describe("classifyDelivery", () => {
  it("starts a task from an issue comment that mentions the trigger, with the text after it", () => {
    const c = classifyDelivery("issue_comment", comment("@codeforge fix the typo in the README"), SETTINGS);
    expect(c.kind).toBe("act");
    if (c.kind !== "act") return;
    expect(c.act).toMatchObject({
      mode: "start",
      installationId: INSTALLATION_ID,
      repo: {
        id: 186853002,
        owner: "Codertocat",
        name: "Hello-World",
        fullName: "Codertocat/Hello-World",
        cloneUrl: "https://github.com/Codertocat/Hello-World.git",
        defaultBranch: "master",
        private: false,
      },
      number: 1,
      sender: { login: "Codertocat" },
      source: { kind: "issue_comment" },
      instruction: "fix the typo in the README",
      subject: { title: "Spelling error in the README file" },
      review: null,
    });
    expect(c.act.source.id).toBeTypeOf("number");
    expect(c.act.subject.body).toContain("accidently");
  });

  it("ignores comments without the trigger, edits and deletions, and bots", () => {
    expect(classifyDelivery("issue_comment", comment("You are totally right!"), SETTINGS)).toMatchObject({ kind: "ignored" });
    expect(classifyDelivery("issue_comment", comment(null), SETTINGS)).toMatchObject({ kind: "ignored" });
    const edited = examplePayload("issue_comment", "edited");
    edited.comment.body = "@codeforge do it";
    expect(classifyDelivery("issue_comment", edited, SETTINGS)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("edited") });
    const bot = comment("@codeforge do it");
    bot.sender.type = "Bot";
    expect(classifyDelivery("issue_comment", bot, SETTINGS)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("bot") });
  });

  it("steers from a pull request comment only with the trigger and an instruction", () => {
    const p = comment("@CodeForge: rename the helper");
    p.issue.pull_request = { url: "https://api.github.com/repos/Codertocat/Hello-World/pulls/1" } as never;
    const c = classifyDelivery("issue_comment", p, SETTINGS);
    expect(c).toMatchObject({ kind: "act", act: { mode: "steer", instruction: "rename the helper", source: { kind: "issue_comment" } } });
    p.comment.body = "looks good";
    expect(classifyDelivery("issue_comment", p, SETTINGS).kind).toBe("ignored");
    p.comment.body = "@codeforge";
    expect(classifyDelivery("issue_comment", p, SETTINGS).kind).toBe("ignored");
  });

  it("starts from the trigger label (any case) and ignores other labels", () => {
    const p = examplePayload("issues", "labeled");
    expect(classifyDelivery("issues", p, SETTINGS)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("bug") });
    (p as { label: { name: string } }).label.name = "CodeForge";
    const c = classifyDelivery("issues", p, SETTINGS);
    expect(c).toMatchObject({ kind: "act", act: { mode: "start", source: { kind: "label", id: null }, instruction: "", number: 1 } });
    expect(classifyDelivery("issues", examplePayload("issues", "opened"), SETTINGS).kind).toBe("ignored");
    delete (p as { label?: unknown }).label;
    expect(classifyDelivery("issues", p, SETTINGS)).toMatchObject({ kind: "invalid", field: "label" });
  });

  it("steers from a submitted review with a body, the whole body as the instruction", () => {
    const p = examplePayload("pull_request_review", "submitted");
    expect(classifyDelivery("pull_request_review", p, SETTINGS)).toMatchObject({ kind: "ignored", reason: "the review has no body" });
    p.review.body = "  Please add a test for the empty case.  ";
    const c = classifyDelivery("pull_request_review", p, SETTINGS);
    expect(c).toMatchObject({
      kind: "act",
      act: { mode: "steer", number: 2, source: { kind: "review", id: 237895671 }, instruction: "Please add a test for the empty case.", review: null },
    });
    expect(classifyDelivery("pull_request_review", examplePayload("pull_request_review", "dismissed"), SETTINGS).kind).toBe("ignored");
    p.review.state = "approved";
    p.review.body = "LGTM";
    expect(classifyDelivery("pull_request_review", p, SETTINGS)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("approving") });
    p.review.body = "LGTM, but @codeforge bump the version too";
    expect(classifyDelivery("pull_request_review", p, SETTINGS)).toMatchObject({ kind: "act", act: { instruction: p.review.body } });
  });

  it("steers from a review comment with where it sits", () => {
    const p = examplePayload("pull_request_review_comment", "created");
    const c = classifyDelivery("pull_request_review_comment", p, SETTINGS);
    expect(c).toMatchObject({
      kind: "act",
      act: {
        mode: "steer",
        number: 2,
        source: { kind: "review_comment", id: 284312630 },
        instruction: "Maybe you should use more emoji on this line.",
        review: { path: "README.md", line: null, diffHunk: "@@ -1 +1 @@\n-# Hello-World" },
      },
    });
    (p.comment as { line?: number }).line = 7;
    expect(classifyDelivery("pull_request_review_comment", p, SETTINGS)).toMatchObject({ act: { review: { line: 7 } } });
    expect(classifyDelivery("pull_request_review_comment", examplePayload("pull_request_review_comment", "deleted"), SETTINGS).kind).toBe("ignored");
  });

  it("answers ping, ignores unknown events, and names the missing field of a handled one", () => {
    expect(classifyDelivery("ping", examplePayload("ping"), SETTINGS)).toEqual({ kind: "ping" });
    expect(classifyDelivery("push", {}, SETTINGS)).toMatchObject({ kind: "ignored", reason: expect.stringContaining("push") });
    const noInstallation = comment("@codeforge go") as { installation?: unknown };
    delete noInstallation.installation;
    expect(classifyDelivery("issue_comment", noInstallation, SETTINGS)).toMatchObject({ kind: "invalid", field: "installation" });
    const noCloneUrl = comment("@codeforge go") as unknown as { repository: { clone_url?: string } };
    delete noCloneUrl.repository.clone_url;
    expect(classifyDelivery("issue_comment", noCloneUrl, SETTINGS)).toMatchObject({ kind: "invalid", field: "repository.clone_url" });
    expect(classifyDelivery("issue_comment", "not an object", SETTINGS).kind).toBe("invalid");
    expect(classifyDelivery("issue_comment", {}, SETTINGS)).toMatchObject({ kind: "invalid", field: "action" });
  });

  it("caps the instruction and the subject", () => {
    const p = comment(`@codeforge ${"x".repeat(INSTRUCTION_MAX_CHARS * 2)}`);
    p.issue.body = "y".repeat(SUBJECT_BODY_MAX_CHARS * 2);
    const c = classifyDelivery("issue_comment", p, SETTINGS);
    if (c.kind !== "act") throw new Error(c.kind);
    expect(c.act.instruction.length).toBeLessThanOrEqual(INSTRUCTION_MAX_CHARS);
    expect(c.act.instruction).toMatch(/cut\]$/);
    expect(c.act.subject.body.length).toBeLessThanOrEqual(SUBJECT_BODY_MAX_CHARS);
  });
});

describe("screenEvent", () => {
  it("decides from the event and action alone, and leaves the rest to classifyDelivery", () => {
    expect(screenEvent("ping", {})).toEqual({ kind: "ping" });
    expect(screenEvent("push", {})).toMatchObject({ kind: "ignored" });
    expect(screenEvent("issues", examplePayload("issues", "opened"))).toMatchObject({ kind: "ignored" });
    expect(screenEvent("issues", { action: 1 })).toMatchObject({ kind: "invalid", field: "action" });
    expect(screenEvent("issues", examplePayload("issues", "labeled"))).toBeNull();
    expect(screenEvent("issue_comment", comment("no trigger here"))).toBeNull();
  });
});

describe("afterTrigger", () => {
  it("matches the phrase as a whole word in any case", () => {
    expect(afterTrigger("@codeforge fix it", "@codeforge")).toBe("fix it");
    expect(afterTrigger("please @CodeForge: do x", "@codeforge")).toBe("do x");
    expect(afterTrigger("can you fix this, @codeforge?", "@codeforge")).toBe("can you fix this");
    expect(afterTrigger("@codeforge.", "@codeforge")).toBe("");
    expect(afterTrigger("@codeforgebot fix it", "@codeforge")).toBeNull();
    expect(afterTrigger("@codeforge-app fix it", "@codeforge")).toBeNull();
    expect(afterTrigger("mail me@codeforge.dev", "@codeforge")).toBeNull();
    expect(afterTrigger("forge ahead", "forge")).toBe("ahead");
    expect(afterTrigger("codeforge ahead", "forge")).toBeNull();
  });

  it("skips mentions in quoted lines", () => {
    expect(afterTrigger("> @codeforge fix it\nThanks, done by hand.", "@codeforge")).toBeNull();
    expect(afterTrigger("> @codeforge fix it\n@codeforge do it properly", "@codeforge")).toBe("do it properly");
  });
});
