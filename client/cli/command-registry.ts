/**
 * Every `codeforge` command, in the order `--help` lists them. A new command is one module
 * exporting a `Command` and one entry here.
 * @module
 */
import type { Command } from "./command.js";
import { auditCommand } from "./commands/audit.js";
import { deadLettersCommand } from "./commands/dead-letters.js";
import { deliveriesCommand } from "./commands/deliveries.js";
import { diffCommand } from "./commands/diff.js";
import { followupCommand } from "./commands/followup.js";
import { keysCommand } from "./commands/keys.js";
import { runnerCredentialCommand } from "./commands/runner-credential.js";
import { runnersCommand } from "./commands/runners.js";
import { submitCommand } from "./commands/submit.js";
import { cancelCommand, logsCommand, statusCommand } from "./commands/task-commands.js";
import { tasksCommand } from "./commands/tasks.js";
import { watchCommand } from "./commands/watch.js";
import { webhookSecretCommand } from "./commands/webhook-secret.js";
import { completionCommand } from "./completion.js";

export const COMMANDS: readonly Command[] = [
  submitCommand,
  followupCommand,
  watchCommand,
  logsCommand,
  statusCommand,
  diffCommand,
  cancelCommand,
  tasksCommand,
  deliveriesCommand,
  webhookSecretCommand,
  keysCommand,
  auditCommand,
  deadLettersCommand,
  runnersCommand,
  runnerCredentialCommand,
  completionCommand(() => COMMANDS),
];
