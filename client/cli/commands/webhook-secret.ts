/**
 * `codeforge webhook-secret`: the signing secret of the key's owner's webhooks (the key their
 * receiver verifies with), shown, or rotated with an overlap during which every delivery
 * carries both signatures. The secret alone goes to stdout, so that
 * `WEBHOOK_SECRET=$(codeforge webhook-secret)` works; what it is and until when the previous
 * one still signs go to stderr.
 * @module
 */
import { WEBHOOK_SECRET_OVERLAP_MAX_SECONDS, type WebhookSecret } from "#api/webhooks.js";
import { intFlag, parseFlags, positionals, type Command, type CommandContext, type FlagSpecs } from "../command.js";
import { shortTime } from "../table.js";

/** The secret on stdout (or the API's JSON), and what it means on stderr. */
function print(ctx: CommandContext, secret: WebhookSecret, json: boolean, notes: string[]): void {
  ctx.out.line(json ? JSON.stringify(secret, null, 2) : secret.secret);
  for (const note of notes) ctx.out.error(note);
}

/** Until when the previous secret signs too, as a sentence. */
function overlapNote(secret: WebhookSecret): string {
  return secret.previous_secret_expires_at
    ? `The previous secret also signs every delivery until ${shortTime(secret.previous_secret_expires_at)} UTC (each carries both signatures).`
    : "No previous secret signs any more.";
}

async function show(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, {});
  positionals("webhook-secret show", given, []);
  const secret = await ctx.client().webhookSecret();
  print(ctx, secret, values.json, [
    `The secret that signs your tasks' webhooks, made ${shortTime(secret.created_at)} UTC: give it to your receiver, and keep it out of logs.`,
    overlapNote(secret),
  ]);
  return 0;
}

const rotateFlags = {
  overlap: {
    type: "string",
    value: "<seconds>",
    description: `How long the old secret keeps signing too, 0 to ${WEBHOOK_SECRET_OVERLAP_MAX_SECONDS} (default 86400, a day)`,
  },
} as const satisfies FlagSpecs;

async function rotate(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, rotateFlags);
  positionals("webhook-secret rotate", given, []);
  const overlap = intFlag("overlap", values.overlap, { max: WEBHOOK_SECRET_OVERLAP_MAX_SECONDS });
  const secret = await ctx.client().rotateWebhookSecret(overlap === undefined ? {} : { overlap_seconds: overlap });
  print(ctx, secret, values.json, [
    "A new signing secret. Store it now and give it to your receivers.",
    secret.previous_secret_expires_at
      ? `The old secret also signs every delivery until ${shortTime(secret.previous_secret_expires_at)} UTC; after that, receivers that only know it reject your webhooks.`
      : "The old secret no longer signs: receivers that only know it reject your webhooks from now on.",
  ]);
  return 0;
}

export const webhookSecretCommand: Command = {
  name: "webhook-secret",
  summary: "show or rotate the secret your webhooks are signed with",
  description:
    "Every webhook of the tasks of this key's owner is signed with it (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). The secret alone goes to stdout; what it is goes to stderr.",
  usage: ["webhook-secret [show]", "webhook-secret rotate [flags]"],
  flags: {},
  defaultSubcommand: "show",
  subcommands: [
    {
      name: "show",
      summary: "print the signing secret, made on first use (the default)",
      usage: ["webhook-secret [show] [flags]"],
      flags: {},
      examples: ["export WEBHOOK_SECRET=$(codeforge webhook-secret)", "codeforge webhook-secret show --jq .previous_secret_expires_at"],
      run: show,
    },
    {
      name: "rotate",
      summary: "issue a new secret; the old one keeps signing for the overlap",
      description:
        "During the overlap every delivery carries two signatures, so receivers with either secret accept it. Once it ends, receivers that only know the old secret reject your webhooks: update them first.",
      usage: ["webhook-secret rotate [flags]"],
      flags: rotateFlags,
      examples: [
        "# A new secret; the old one signs too for a day",
        "codeforge webhook-secret rotate",
        "# The old secret stops signing now (after a leak)",
        "codeforge webhook-secret rotate --overlap 0",
      ],
      run: rotate,
    },
  ],
};
