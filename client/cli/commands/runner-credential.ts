/**
 * `codeforge runner-credential --pool <pool> [--ttl <seconds>]` (admin): mints a short-lived
 * credential for one pool's runners (see docs/runner-security.md). The credential alone goes to
 * stdout, so that `CODEFORGE_RUNNER_CREDENTIAL=$(codeforge runner-credential --pool gpu)`
 * works; its pool and expiry, and that it is not shown again, go to stderr.
 * @module
 */
import { RUNNER_CREDENTIAL_TTL_MAX_SECONDS, RUNNER_CREDENTIAL_TTL_MIN_SECONDS } from "#api/limits.js";
import { intFlag, parseFlags, positionals, type Command, type FlagSpecs } from "../command.js";
import { UsageError } from "../exit-codes.js";

const credentialFlags = {
  pool: { type: "string", value: "<pool>", description: "The pool whose runners will use it (required)" },
  ttl: {
    type: "string",
    value: "<seconds>",
    description: `How long it works, ${RUNNER_CREDENTIAL_TTL_MIN_SECONDS} to ${RUNNER_CREDENTIAL_TTL_MAX_SECONDS} seconds`,
  },
} as const satisfies FlagSpecs;

export const runnerCredentialCommand: Command = {
  name: "runner-credential",
  summary: "mint a short-lived credential for one pool's runners (admin)",
  description: "The credential alone goes to stdout; its pool and expiry go to stderr. It is not shown again.",
  usage: ["runner-credential --pool <pool> [flags]"],
  flags: credentialFlags,
  examples: ["export CODEFORGE_RUNNER_CREDENTIAL=$(codeforge runner-credential --pool gpu --ttl 86400)"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, credentialFlags);
    positionals("runner-credential", given, []);
    if (!values.pool) throw new UsageError("runner-credential needs --pool <pool>");
    const ttl = intFlag("ttl", values.ttl, { min: RUNNER_CREDENTIAL_TTL_MIN_SECONDS, max: RUNNER_CREDENTIAL_TTL_MAX_SECONDS });
    const credential = await ctx.client().createRunnerCredential({ pool: values.pool, ...(ttl === undefined ? {} : { ttl_seconds: ttl }) });
    ctx.out.line(values.json ? JSON.stringify(credential, null, 2) : credential.credential);
    ctx.out.error(
      `A credential for pool ${credential.pool}'s runners until ${credential.expires_at} (${credential.credential_id}). Store it now: it is not shown again.`,
    );
    return 0;
  },
};
