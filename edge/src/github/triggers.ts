/**
 * Which GitHub deliveries CodeForge acts on, decided from the event name and payload alone:
 * `classifyDelivery` turns a delivery into a `GitHubAct` (start a task on an issue, or steer the
 * task behind a pull request), or says why it is ignored or what it lacks.
 *
 * Acted on: a new issue comment holding the trigger phrase (on an issue: start; on a pull
 * request: steer), the trigger label added to an issue (start), a new review comment and a
 * submitted review with a body (steer; an approval only when it mentions the trigger; whether
 * the pull request is one CodeForge opened is for the conversation's object to decide). Never: edits and deletions, other events and actions,
 * and anything a bot sent (this App's own comments included), so CodeForge cannot trigger
 * itself. Whether the sender may trigger at all is checked later, through the API.
 * @module
 */
import type { z } from "zod";
import { capText } from "./untrusted-text.js";
import {
  ActionOnly,
  IssueCommentPayload,
  IssuesPayload,
  PullRequestReviewCommentPayload,
  PullRequestReviewPayload,
  type RepositoryRef,
} from "./webhook-payloads.js";

/** The instruction a comment gives: a long message, but not a document. */
export const INSTRUCTION_MAX_CHARS = 16_000;
/** GitHub caps titles at 256 characters; this only guards against a payload that does not. */
export const SUBJECT_TITLE_MAX_CHARS = 1_000;
/** An issue body is context, not the task: half of GitHub's own 65,536-character cap. */
export const SUBJECT_BODY_MAX_CHARS = 32_000;
/** A review comment's diff hunk: enough to show the lines under discussion. */
export const DIFF_HUNK_MAX_CHARS = 8_000;

export interface GitHubAct {
  /** `start`: a task on an issue. `steer`: a follow-up of the task behind a pull request. */
  mode: "start" | "steer";
  installationId: number;
  repo: { id: number; owner: string; name: string; fullName: string; cloneUrl: string; defaultBranch: string; private: boolean };
  /** The issue's or pull request's number. */
  number: number;
  sender: { login: string; id: number };
  /** What triggered it: the comment's or review's id (null for a label). */
  source: { kind: "issue_comment" | "label" | "review" | "review_comment"; id: number | null };
  /** Text after the trigger phrase (a review's or review comment's whole body); trimmed, capped; empty for a label. */
  instruction: string;
  /** The issue's or pull request's title and body, capped. */
  subject: { title: string; body: string };
  /** Where a review comment sits; null for everything else. */
  review: { path: string; line: number | null; diffHunk: string } | null;
}

export type Classified =
  | { kind: "ping" }
  | { kind: "ignored"; reason: string }
  | { kind: "invalid"; message: string; field?: string }
  | { kind: "act"; act: GitHubAct };

/** The repository's trigger phrase and label (`.codeforge.yml` or the App's defaults). */
export interface TriggerSettings {
  trigger: string;
  label: string;
}

/**
 * Decides what to do with one delivery (`X-GitHub-Event` and its parsed JSON body).
 * @example
 * const c = classifyDelivery("issue_comment", body, { trigger: "@codeforge", label: "codeforge" });
 * if (c.kind === "act") startOrSteer(c.act);
 */
export function classifyDelivery(event: string, payload: unknown, settings: TriggerSettings): Classified {
  const early = screenEvent(event, payload);
  if (early) return early;
  switch (event) {
    case "issue_comment":
      return parsed(IssueCommentPayload, payload, event, (p) => {
        const onPullRequest = p.issue.pull_request != null;
        const instruction = afterTrigger(p.comment.body ?? "", settings.trigger);
        if (instruction === null) return ignored(`the comment does not mention ${settings.trigger}`);
        if (onPullRequest && instruction === "") return ignored(`the comment gives no instruction after ${settings.trigger}`);
        return act(p, onPullRequest ? "steer" : "start", p.issue, { kind: "issue_comment", id: p.comment.id }, instruction, null);
      });
    case "issues":
      return parsed(IssuesPayload, payload, event, (p) => {
        if (!p.label) return invalid(null, event, "label", "an issues labeled delivery needs label.name");
        if (p.label.name.toLowerCase() !== settings.label.toLowerCase()) {
          return ignored(`label ${JSON.stringify(p.label.name)} is not ${JSON.stringify(settings.label)}`);
        }
        return act(p, "start", p.issue, { kind: "label", id: null }, "", null);
      });
    case "pull_request_review":
      return parsed(PullRequestReviewPayload, payload, event, (p) => {
        const body = (p.review.body ?? "").trim();
        if (body === "") return ignored("the review has no body");
        // An approval's body is praise ("LGTM"), not a change request, unless it calls CodeForge by name.
        if (p.review.state.toLowerCase() === "approved" && afterTrigger(body, settings.trigger) === null) {
          return ignored(`an approving review steers only when it mentions ${settings.trigger}`);
        }
        return act(p, "steer", p.pull_request, { kind: "review", id: p.review.id }, body, null);
      });
    default:
      return parsed(PullRequestReviewCommentPayload, payload, event, (p) => {
        const body = (p.comment.body ?? "").trim();
        if (body === "") return ignored("the review comment has no body");
        const review = {
          path: p.comment.path,
          line: p.comment.line ?? p.comment.original_line ?? null,
          diffHunk: capText(p.comment.diff_hunk ?? "", DIFF_HUNK_MAX_CHARS),
        };
        return act(p, "steer", p.pull_request, { kind: "review_comment", id: p.comment.id }, body, review);
      });
  }
}

/**
 * What the event and action alone decide, before any repository's settings are known: a
 * `ping`, an event or action CodeForge never acts on (ignored), a payload without an action
 * (invalid); null when the delivery must be looked at with the repository's settings.
 */
export function screenEvent(event: string, payload: unknown): Classified | null {
  if (event === "ping") return { kind: "ping" };
  const handledAction = HANDLED[event];
  if (!handledAction) return ignored(`event ${JSON.stringify(event)} is not one CodeForge acts on`);
  const action = ActionOnly.safeParse(payload);
  if (!action.success) return invalid(action.error, `${event} payload`);
  if (action.data.action !== handledAction) {
    return ignored(`${event} action ${JSON.stringify(action.data.action)} is not one CodeForge acts on`);
  }
  return null;
}

/**
 * The text after the first mention of `trigger` outside quoted lines (`> …`, someone quoting
 * an earlier request), trimmed of the `:`/`,` that often follows it; when nothing follows, the
 * text before it (`fix this, @codeforge`). Null when the text does not mention `trigger`.
 *
 * The phrase matches as a whole word, whatever its case: `@codeforge` is in `please
 * @CodeForge: do x` but not in `@codeforgebot`, `@codeforge-app` or `me@codeforge.dev`.
 */
export function afterTrigger(text: string, trigger: string): string | null {
  const pattern = new RegExp(`(?<![\\w@.-])${escapeRegExp(trigger)}(?![\\w-]|\\.\\w)`, "gi");
  for (const match of text.matchAll(pattern)) {
    const lineStart = text.lastIndexOf("\n", match.index) + 1;
    if (text.slice(lineStart, match.index).trimStart().startsWith(">")) continue;
    const after = text
      .slice(match.index + match[0].length)
      .replace(/^[\s:,;.!?-]+/, "")
      .trim();
    const before = text
      .slice(0, match.index)
      .replace(/[\s:,;-]+$/, "")
      .trim();
    const instruction = after !== "" ? after : before;
    return capText(instruction, INSTRUCTION_MAX_CHARS);
  }
  return null;
}

/** The one action of each handled event that CodeForge acts on. */
const HANDLED: Record<string, string> = {
  issue_comment: "created",
  issues: "labeled",
  pull_request_review: "submitted",
  pull_request_review_comment: "created",
};

type Delivery = { installation: { id: number }; repository: RepositoryRef; sender: { login: string; id: number; type: string } };

function parsed<T extends Delivery>(schema: z.ZodType<T>, payload: unknown, event: string, then: (p: T) => Classified): Classified {
  const result = schema.safeParse(payload);
  if (!result.success) return invalid(result.error, event);
  if (result.data.sender.type === "Bot") return ignored(`the sender ${result.data.sender.login} is a bot`);
  return then(result.data);
}

function act(
  p: Delivery,
  mode: GitHubAct["mode"],
  subject: { number: number; title: string; body?: string | null | undefined },
  source: GitHubAct["source"],
  instruction: string,
  review: GitHubAct["review"],
): Classified {
  const r = p.repository;
  return {
    kind: "act",
    act: {
      mode,
      installationId: p.installation.id,
      repo: { id: r.id, owner: r.owner.login, name: r.name, fullName: r.full_name, cloneUrl: r.clone_url, defaultBranch: r.default_branch, private: r.private },
      number: subject.number,
      sender: { login: p.sender.login, id: p.sender.id },
      source,
      instruction: capText(instruction, INSTRUCTION_MAX_CHARS),
      subject: { title: capText(subject.title, SUBJECT_TITLE_MAX_CHARS), body: capText(subject.body ?? "", SUBJECT_BODY_MAX_CHARS) },
      review,
    },
  };
}

function ignored(reason: string): Classified {
  return { kind: "ignored", reason };
}

/** A handled event that lacks what CodeForge needs, naming the first field at fault. */
function invalid(error: z.ZodError | null, what: string, field?: string, message?: string): Classified {
  const issue = error?.issues[0];
  const path = field ?? (issue && issue.path.length > 0 ? issue.path.join(".") : undefined);
  const text = message ?? `${what}: ${path ? `${path}: ` : ""}${issue?.message ?? "invalid"}`;
  return path === undefined ? { kind: "invalid", message: text } : { kind: "invalid", message: text, field: path };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
