/**
 * The task object's SQLite schema, as numbered migrations.
 *
 * One row in `task` (the object is the task), an append-only `events` log whose rowid is the
 * event's `seq`, so "one sequence, no gaps, no duplicates" is the database's job. Secrets are
 * only ever in the `secrets` column, sealed, and only until the task ends; a CLI's saved session
 * (also a secret) only in `cli_sessions`, sealed.
 * @module
 */
import type { Baseline, Migration } from "../sql/migrations.js";

export const TASK_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "task and event log",
    statements: [
      `CREATE TABLE task (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        timeout_ms INTEGER NOT NULL,
        runner_id TEXT,
        lease_hash TEXT,
        lease_expires_at INTEGER,
        attempt_started_at INTEGER,
        cancel_requested_at INTEGER,
        requeue_at INTEGER,
        last_batch_seq INTEGER NOT NULL,
        completed_lease_hash TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER,
        finished_at INTEGER,
        output_bytes INTEGER NOT NULL DEFAULT 0,
        output_truncated INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        error TEXT
      )`,
      `CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        body TEXT NOT NULL
      )`,
    ],
  },
  {
    id: 2,
    name: "task secrets",
    // `secrets` holds the sealed access token and env (see secret-box.ts) and is set to NULL
    // when the task ends; the summary columns keep what clients may see about them.
    statements: [
      "ALTER TABLE task ADD COLUMN secrets TEXT",
      "ALTER TABLE task ADD COLUMN has_access_token INTEGER NOT NULL DEFAULT 0",
      "ALTER TABLE task ADD COLUMN env_names TEXT NOT NULL DEFAULT '[]'",
    ],
  },
  {
    id: 3,
    name: "owner key limits",
    // The submitting key's max_concurrent_tasks, carried into every enqueue of the task.
    statements: ["ALTER TABLE task ADD COLUMN max_concurrent INTEGER"],
  },
  {
    id: 4,
    name: "webhook deliveries",
    // An outbox: a delivery row is written in the same turn as the status change it reports,
    // so no event is lost between deciding and sending. `next_attempt_at` is the delivery's
    // deadline on the object's single alarm; an attempt in flight holds it as a lease, so an
    // edge that restarts mid-attempt tries again. See edge/src/webhooks/delivery-store.ts.
    statements: [
      "ALTER TABLE task ADD COLUMN traceparent TEXT",
      `CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event_type TEXT NOT NULL,
        url TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        series INTEGER NOT NULL,
        attempts_in_series INTEGER NOT NULL,
        next_attempt_at INTEGER,
        completed_at INTEGER,
        dead_letter_op TEXT,
        dead_letter_due_at INTEGER
      )`,
      `CREATE TABLE delivery_attempts (
        delivery_id TEXT NOT NULL,
        series INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        status INTEGER,
        latency_ms INTEGER,
        error TEXT,
        response_excerpt TEXT,
        outcome TEXT,
        PRIMARY KEY (delivery_id, series, attempt)
      )`,
    ],
  },
  {
    id: 5,
    name: "iterations",
    // A follow-up starts iteration n+1 of an ended task. The task row always describes the
    // current iteration (its lifecycle columns restart); `iterations` keeps one row per
    // iteration: what it was asked, where its events start, and — once a later iteration
    // begins — how it ended. `base` is where the current iteration starts (a pushed branch or
    // the previous patch; see iteration-base.ts). Events and deliveries name their iteration.
    statements: [
      "ALTER TABLE task ADD COLUMN iteration INTEGER NOT NULL DEFAULT 1",
      "ALTER TABLE task ADD COLUMN base TEXT",
      "ALTER TABLE events ADD COLUMN iteration INTEGER NOT NULL DEFAULT 1",
      "ALTER TABLE deliveries ADD COLUMN iteration INTEGER NOT NULL DEFAULT 1",
      `CREATE TABLE iterations (
        n INTEGER PRIMARY KEY,
        prompt TEXT NOT NULL,
        model TEXT,
        created_at INTEGER NOT NULL,
        first_seq INTEGER NOT NULL,
        idempotency_key TEXT UNIQUE,
        request_hash TEXT,
        status TEXT,
        attempt INTEGER,
        result TEXT,
        error TEXT,
        started_at INTEGER,
        finished_at INTEGER
      )`,
      // A task made before this migration is in its first iteration.
      `INSERT INTO iterations (n, prompt, model, created_at, first_seq)
        SELECT 1, json_extract(spec, '$.prompt'), json_extract(spec, '$.model'), created_at, 1 FROM task`,
    ],
  },
  {
    id: 6,
    name: "task index outbox",
    // `index_version` counts the changes the task index must hear of, `indexed_version` the
    // last it acknowledged; `index_due_at` is when the alarm reports if nothing did sooner
    // (see index-outbox.ts). Tasks made before this migration are owed one report at once.
    statements: [
      "ALTER TABLE task ADD COLUMN index_version INTEGER NOT NULL DEFAULT 0",
      "ALTER TABLE task ADD COLUMN indexed_version INTEGER NOT NULL DEFAULT 0",
      "ALTER TABLE task ADD COLUMN index_due_at INTEGER",
      "UPDATE task SET index_version = 1, index_due_at = 0",
    ],
  },
  {
    id: 7,
    name: "attempt usage",
    // One row per attempt that reported usage or a result cost (see attempt-usage.ts): the
    // latest usage totals, for the budget the next attempt's lease carries, and the charge to
    // the key's monthly spend, fixed when the attempt ends and owed until its meter took it.
    statements: [
      `CREATE TABLE attempt_usage (
        iteration INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL,
        result_cost_usd REAL,
        charge_usd REAL,
        charge_month TEXT,
        charge_due_at INTEGER,
        PRIMARY KEY (iteration, attempt)
      )`,
    ],
  },
  {
    id: 8,
    name: "cli sessions",
    // The CLI's session one iteration left, for the next to resume: sealed, in parts of at most
    // 1 MB of text each (see cli-session-store.ts); `completed` once the lease that sent it
    // completed the iteration.
    statements: [
      `CREATE TABLE cli_sessions (
        iteration INTEGER NOT NULL,
        part INTEGER NOT NULL,
        lease_hash TEXT NOT NULL,
        completed INTEGER NOT NULL DEFAULT 0,
        stored_at INTEGER NOT NULL,
        sealed TEXT NOT NULL,
        PRIMARY KEY (iteration, part)
      )`,
    ],
  },
  {
    id: 9,
    name: "task index shards",
    // The task index became one shard per owner hash (see task-index-shards.ts): every task
    // reports again, in full, to its owner's shard — at once when it next wakes.
    statements: ["UPDATE task SET index_version = index_version + 1, indexed_version = 0, index_due_at = 0"],
  },
];

/**
 * What migrations 1–9 leave, for a new task's database in one step (see `Baseline`), in the
 * transaction that writes the task. Later migrations would apply on top of it as usual, but a new
 * task pays for each in its creation: bring the baseline up to date with them.
 * `tests/edge/task-migration.test.ts` checks it against the migrations, column by column.
 */
export const TASK_BASELINE: Baseline = {
  through: 9,
  statements: [
    `CREATE TABLE task (
      id TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      request_hash TEXT NOT NULL,
      spec TEXT NOT NULL,
      status TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      max_attempts INTEGER NOT NULL,
      timeout_ms INTEGER NOT NULL,
      runner_id TEXT,
      lease_hash TEXT,
      lease_expires_at INTEGER,
      attempt_started_at INTEGER,
      cancel_requested_at INTEGER,
      requeue_at INTEGER,
      last_batch_seq INTEGER NOT NULL,
      completed_lease_hash TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER,
      output_bytes INTEGER NOT NULL DEFAULT 0,
      output_truncated INTEGER NOT NULL DEFAULT 0,
      result TEXT,
      error TEXT,
      secrets TEXT,
      has_access_token INTEGER NOT NULL DEFAULT 0,
      env_names TEXT NOT NULL DEFAULT '[]',
      max_concurrent INTEGER,
      traceparent TEXT,
      iteration INTEGER NOT NULL DEFAULT 1,
      base TEXT,
      index_version INTEGER NOT NULL DEFAULT 0,
      indexed_version INTEGER NOT NULL DEFAULT 0,
      index_due_at INTEGER
    )`,
    `CREATE TABLE events (
      seq INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      body TEXT NOT NULL,
      iteration INTEGER NOT NULL DEFAULT 1
    )`,
    `CREATE TABLE deliveries (
      id TEXT PRIMARY KEY,
      event_type TEXT NOT NULL,
      url TEXT NOT NULL,
      body TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      status TEXT NOT NULL,
      series INTEGER NOT NULL,
      attempts_in_series INTEGER NOT NULL,
      next_attempt_at INTEGER,
      completed_at INTEGER,
      dead_letter_op TEXT,
      dead_letter_due_at INTEGER,
      iteration INTEGER NOT NULL DEFAULT 1
    )`,
    `CREATE TABLE delivery_attempts (
      delivery_id TEXT NOT NULL,
      series INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      started_at INTEGER NOT NULL,
      status INTEGER,
      latency_ms INTEGER,
      error TEXT,
      response_excerpt TEXT,
      outcome TEXT,
      PRIMARY KEY (delivery_id, series, attempt)
    )`,
    `CREATE TABLE iterations (
      n INTEGER PRIMARY KEY,
      prompt TEXT NOT NULL,
      model TEXT,
      created_at INTEGER NOT NULL,
      first_seq INTEGER NOT NULL,
      idempotency_key TEXT UNIQUE,
      request_hash TEXT,
      status TEXT,
      attempt INTEGER,
      result TEXT,
      error TEXT,
      started_at INTEGER,
      finished_at INTEGER
    )`,
    `CREATE TABLE attempt_usage (
      iteration INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      tokens INTEGER NOT NULL DEFAULT 0,
      cost_usd REAL,
      result_cost_usd REAL,
      charge_usd REAL,
      charge_month TEXT,
      charge_due_at INTEGER,
      PRIMARY KEY (iteration, attempt)
    )`,
    `CREATE TABLE cli_sessions (
      iteration INTEGER NOT NULL,
      part INTEGER NOT NULL,
      lease_hash TEXT NOT NULL,
      completed INTEGER NOT NULL DEFAULT 0,
      stored_at INTEGER NOT NULL,
      sealed TEXT NOT NULL,
      PRIMARY KEY (iteration, part)
    )`,
  ],
};
