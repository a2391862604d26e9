/**
 * Numbered schema migrations for a Durable Object's SQLite database.
 *
 * Each object applies, in order and once, the migrations it has not yet seen, recording them
 * in `_migrations`. A deployed object that wakes up under newer code migrates itself.
 * @module
 */

/** The narrow slice of `SqlStorage` storage modules receive, so they can run anywhere. */
export type Sql = Pick<SqlStorage, "exec">;

export interface Migration {
  id: number;
  name: string;
  statements: string[];
}

/**
 * A fresh database's schema in one step: what applying every migration up to `through` leaves
 * (tables with all their columns, in the same order), without the `ALTER TABLE`s in between —
 * each of which makes SQLite rewrite and re-read its schema. For objects made by the thousand
 * (one per task). A test checks that it leaves exactly what the migrations leave.
 */
export interface Baseline {
  through: number;
  statements: string[];
}

/**
 * Applies every migration with an id above the last applied one. A fresh database with a
 * `baseline` gets the baseline instead of the migrations it covers (recorded as applied).
 */
export function migrate(sql: Sql, migrations: readonly Migration[], baseline?: Baseline): void {
  sql.exec("CREATE TABLE IF NOT EXISTS _migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const row = sql.exec<{ id: number | null }>("SELECT MAX(id) AS id FROM _migrations").one();
  let applied = row.id ?? 0;
  if (applied === 0 && baseline) {
    // One call: the baseline's statements and the record of what it covers, in one batch.
    const covered = migrations.filter((m) => m.id <= baseline.through);
    const now = Date.now();
    sql.exec(
      `${baseline.statements.join(";\n")};\nINSERT INTO _migrations (id, name, applied_at) VALUES ${covered.map(() => "(?, ?, ?)").join(", ")}`,
      ...covered.flatMap((m) => [m.id, m.name, now]),
    );
    applied = baseline.through;
  }
  for (const migration of migrations) {
    if (migration.id <= applied) continue;
    for (const statement of migration.statements) sql.exec(statement);
    sql.exec("INSERT INTO _migrations (id, name, applied_at) VALUES (?, ?, ?)", migration.id, migration.name, Date.now());
  }
}

/** True when the database has a table of that name (used to answer reads without creating one). */
export function tableExists(sql: Sql, name: string): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name).toArray().length > 0;
}
