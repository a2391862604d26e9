/**
 * `codeforge runner-credential --pool <pool> [--ttl <seconds>]` (admin): mints a short-lived
 * credential for one pool's runners (see docs/runner-security.md). The credential alone goes to
 * stdout, so that `CODEFORGE_RUNNER_CREDENTIAL=$(codeforge runner-credential --pool gpu)`
 * works; its pool and expiry, and that it is not shown again, go to stderr.
 * @module
 */
import { RUNNER_CREDENTIAL_TTL_MAX_SECONDS, RUNNER_CREDENTIAL_TTL_MIN_SECONDS } from "#api/limits.js";
import { intFlag, parseFlags, positionals, type Command } from "../command.js";
import { UsageError } from "../exit-codes.js";

export const runnerCredentialCommand: Command = {
  name: "runner-credential",
  usage: ["runner-credential --pool <pool> [--ttl <seconds>]   a short-lived credential for one pool's runners (admin)"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, { pool: { type: "string" }, ttl: { type: "string" } });
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
