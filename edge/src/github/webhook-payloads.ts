/**
 * The parts of GitHub's webhook payloads CodeForge reads, as zod schemas: `issue_comment`,
 * `issues`, `pull_request_review` and `pull_request_review_comment`, and the `installation`,
 * `repository` and `sender` every App delivery carries.
 *
 * The schemas are loose: GitHub sends far more than this and adds fields over time, so unknown
 * fields pass through untouched and only what CodeForge relies on is checked. Text GitHub lets
 * users leave empty (issue, comment and review bodies) may be null.
 * @module
 */
import { z } from "zod";

/** The App installation a delivery is for; absent from deliveries to a plain repository webhook. */
export const InstallationRef = z.looseObject({ id: z.number().int().positive() });
export type InstallationRef = z.infer<typeof InstallationRef>;

export const RepositoryRef = z.looseObject({
  id: z.number().int().positive(),
  name: z.string().min(1),
  full_name: z.string().min(1),
  owner: z.looseObject({ login: z.string().min(1) }),
  clone_url: z.string().min(1),
  default_branch: z.string().min(1),
  private: z.boolean(),
});
export type RepositoryRef = z.infer<typeof RepositoryRef>;

/** Who caused the event. `type` is `User`, `Bot` (Apps, this one included) or `Organization`. */
export const SenderRef = z.looseObject({
  login: z.string().min(1),
  id: z.number().int().positive(),
  type: z.string(),
});
export type SenderRef = z.infer<typeof SenderRef>;

/** An issue, or a pull request seen as an issue (then `pull_request` is set). */
export const IssueRef = z.looseObject({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable().optional(),
  /** Present (an object of links) when the issue is a pull request. */
  pull_request: z.looseObject({}).nullable().optional(),
});
export type IssueRef = z.infer<typeof IssueRef>;

export const PullRequestRef = z.looseObject({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable().optional(),
});
export type PullRequestRef = z.infer<typeof PullRequestRef>;

const DeliveryCommon = {
  action: z.string(),
  installation: InstallationRef,
  repository: RepositoryRef,
  sender: SenderRef,
};

export const IssueCommentPayload = z.looseObject({
  ...DeliveryCommon,
  issue: IssueRef,
  comment: z.looseObject({ id: z.number().int().positive(), body: z.string().nullable() }),
});
export type IssueCommentPayload = z.infer<typeof IssueCommentPayload>;

export const IssuesPayload = z.looseObject({
  ...DeliveryCommon,
  issue: IssueRef,
  /** The label added or removed, for `labeled` and `unlabeled`. */
  label: z.looseObject({ name: z.string() }).optional(),
});
export type IssuesPayload = z.infer<typeof IssuesPayload>;

export const PullRequestReviewPayload = z.looseObject({
  ...DeliveryCommon,
  pull_request: PullRequestRef,
  review: z.looseObject({ id: z.number().int().positive(), body: z.string().nullable(), state: z.string() }),
});
export type PullRequestReviewPayload = z.infer<typeof PullRequestReviewPayload>;

export const PullRequestReviewCommentPayload = z.looseObject({
  ...DeliveryCommon,
  pull_request: PullRequestRef,
  comment: z.looseObject({
    id: z.number().int().positive(),
    body: z.string().nullable(),
    path: z.string(),
    /** The line of the diff's new side the comment is on; null or absent on outdated comments and older payloads. */
    line: z.number().int().nullable().optional(),
    original_line: z.number().int().nullable().optional(),
    diff_hunk: z.string().nullable().optional(),
  }),
});
export type PullRequestReviewCommentPayload = z.infer<typeof PullRequestReviewCommentPayload>;

/** Only `action` is read before deciding whether an event is handled at all. */
export const ActionOnly = z.looseObject({ action: z.string() });
