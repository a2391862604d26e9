/**
 * A Durable Object whose state is SQLite tables made by numbered migrations: when it wakes it
 * applies those it has not seen yet (`migrations.ts`), and it keeps the narrow `sql` handle its
 * storage modules receive. The key store, audit log, task index and spend meters are built on it.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { type Migration, migrate, type Sql } from "./migrations.js";

export abstract class SqlObject extends DurableObject<Env> {
  protected readonly sql: Sql;

  protected constructor(ctx: DurableObjectState, env: Env, migrations: readonly Migration[]) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, migrations);
  }
}
