/**
 * `DeadLetters`: one Durable Object for the whole edge that indexes dead webhook deliveries,
 * so an admin can list them without asking every task. Task objects report to it from their
 * alarms (and retry until it answers); only `GET /api/v1/dead-letters` reads it.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { DeadLetterList } from "#api/webhooks.js";
import type { Env } from "../env.js";
import { migrate } from "../sql/migrations.js";
import type { DeadLetterSink } from "./delivery-engine.js";
import { addDeadLetter, DEAD_LETTER_MIGRATIONS, listDeadLetters, removeDeadLetter, type DeadLetterEntry } from "./dead-letter-store.js";

/** The one instance's name. */
export const DEAD_LETTERS_NAME = "global";

export class DeadLetters extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, DEAD_LETTER_MIGRATIONS);
  }

  async add(entry: DeadLetterEntry): Promise<void> {
    addDeadLetter(this.ctx.storage.sql, entry);
  }

  async remove(deliveryId: string): Promise<void> {
    removeDeadLetter(this.ctx.storage.sql, deliveryId);
  }

  async list(query: { limit: number; before?: string }): Promise<DeadLetterList> {
    const page = listDeadLetters(this.ctx.storage.sql, { ...query, now: Date.now() });
    return { dead_letters: page.entries, next_before: page.nextBefore };
  }
}

/** The index's stub. */
export function deadLetters(env: Env) {
  return env.DEAD_LETTERS.get(env.DEAD_LETTERS.idFromName(DEAD_LETTERS_NAME));
}

/** The index as the delivery engine sees it. */
export function deadLetterSink(env: Env): DeadLetterSink {
  const stub = () => deadLetters(env);
  return { add: (entry) => stub().add(entry), remove: (id) => stub().remove(id) };
}
