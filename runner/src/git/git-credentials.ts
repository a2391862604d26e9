/**
 * Hands a task's repository token to git without writing it anywhere git or the CLI keeps.
 *
 * A token in the clone URL ends up in `.git/config` (readable by the CLI, which might commit
 * or print it), in git's argv (visible to every local user through `ps`) and in error
 * messages. Instead git gets `GIT_ASKPASS`, pointing at a tiny helper script the runner
 * writes to its own part of the workspace (beside the checkout, never inside it), and the
 * token itself only in that git process's environment. The helper holds no secret: it
 * answers git's "Username" prompt with `x-access-token` (what GitHub, Gitea and Forgejo expect
 * for tokens; GitLab accepts any user name with a token) and its "Password" prompt with the
 * variable. The CLI's own environment never has the variable, and git forgets the token
 * when the clone ends.
 * @module
 */
import { chmod, writeFile } from "node:fs/promises";
import path from "node:path";

/** The variable the helper reads; set only in the environment of the runner's git processes. */
export const TOKEN_ENV_NAME = "CODEFORGE_GIT_TOKEN";

/** User name sent with the token. */
export const TOKEN_USERNAME = "x-access-token";

// POSIX sh, no secret inside. git calls it with the prompt text as $1.
const ASKPASS_SCRIPT = `#!/bin/sh
# Written by the CodeForge runner: answers git's credential prompts from the environment.
case "$1" in
  Username*|username*) printf '%s\\n' '${TOKEN_USERNAME}' ;;
  *) printf '%s\\n' "$${TOKEN_ENV_NAME}" ;;
esac
`;

/**
 * Writes the helper into `dir` (runner-owned, outside the repository) and returns the
 * variables to add to git's environment; none when the task has no token.
 * @example
 * const env = await gitCredentialEnv({ dir: workspace.runnerDir, token: lease.task.access_token });
 */
export async function gitCredentialEnv(options: { dir: string; token: string | null }): Promise<Record<string, string>> {
  if (!options.token) return {};
  const helper = path.join(options.dir, "git-askpass.sh");
  await writeFile(helper, ASKPASS_SCRIPT, { mode: 0o700 });
  await chmod(helper, 0o700);
  return { GIT_ASKPASS: helper, [TOKEN_ENV_NAME]: options.token };
}
