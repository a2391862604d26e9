/**
 * Named limits shared by the edge and the runner.
 *
 * Every buffer, log and row in CodeForge has a bound, and each bound lives here with the
 * reason it has the value it has, so both sides of the protocol agree on them.
 * @module
 */

/** A prompt is text for a model; 200 000 characters is far beyond any real instruction. */
export const PROMPT_MAX_CHARS = 200_000;

/**
 * Setup commands one task may give (`setup`): a handful of install and build steps; a longer
 * list belongs in a script in the repository.
 */
export const SETUP_COMMANDS_MAX = 20;

/** Characters of one setup command: room for a multi-line shell snippet, not for a whole script. */
export const SETUP_COMMAND_MAX_CHARS = 4_096;

/** Request bodies on the public API: a task spec with a maximal prompt fits comfortably. */
export const API_BODY_MAX_BYTES = 1_048_576;

/** Runner event batches: up to 32 chunks of 16 KiB plus their JSON framing. */
export const RUNNER_BODY_MAX_BYTES = 1_048_576;

/**
 * A CLI's saved session (its conversation, kept for the next iteration to resume), compressed:
 * Claude Code's and Codex's transcripts are JSON lines that shrink about tenfold, so this holds
 * some 20 MB of conversation. A bigger one is not kept, and the next iteration starts fresh.
 */
export const CLI_SESSION_MAX_BYTES = 2 * 1_048_576;

/** `CLI_SESSION_MAX_BYTES` as base64 text (how the session travels in JSON). */
export const CLI_SESSION_ARCHIVE_MAX_CHARS = Math.ceil(CLI_SESSION_MAX_BYTES / 3) * 4;

/** The session upload's body: the base64 archive and its JSON framing, with room to spare. */
export const CLI_SESSION_BODY_MAX_BYTES = 3 * 1_048_576;

/** One output chunk (one stored row, one WebSocket frame); rows stay far below SQLite's 2 MB. */
export const OUTPUT_CHUNK_MAX_BYTES = 16_384;

/** Chunks in one event batch; together with the chunk size this caps a batch at 512 KiB. */
export const BATCH_MAX_EVENTS = 32;

/**
 * Events in one WebSocket frame of a task's stream. Events appended in one turn (a runner's
 * batch, a status change with its events) leave as one frame; a reconnecting watcher's replay
 * is cut into frames of this many, so a big backlog is never one message a client must hold.
 */
export const STREAM_FRAME_MAX_EVENTS = 1_000;

/**
 * JSON characters in one stream frame, past which the next event starts a new one: a full
 * runner batch (32 chunks of 16 KiB) still fits in one, and common WebSocket clients and
 * proxies take a message this big. An event larger than this alone travels in a frame of its own.
 */
export const STREAM_FRAME_MAX_CHARS = 1_048_576;

/**
 * Bytes of live events an SSE watcher may leave unread before it is dropped. A client this far
 * behind is closed rather than held in the task object's memory; it reconnects with
 * `Last-Event-ID` and replays the rest from the log at its own pace.
 */
export const STREAM_SSE_BUFFER_MAX_BYTES = 8 * 1_048_576;

/** Output kept per task by default (operators may change it); beyond it a truncation marker. */
export const OUTPUT_MAX_BYTES_DEFAULT = 32 * 1_048_576;

/** The size-capped patch in a result: big enough for real changes, small enough for JSON. */
export const PATCH_MAX_BYTES = 262_144;

/** Iterations one task may have (the first plus its follow-ups). Each keeps its own output
 * (up to the output cap), result and deliveries in the task's object, so the bound keeps one
 * object's storage and its `iterations` list in the task view finite. */
export const ITERATIONS_MAX = 20;

/** Changed files listed in a result; the diff stat still counts all of them. */
export const CHANGED_FILES_MAX = 1_000;

/** Longest a runner may hold a lease request open waiting for work. */
export const LEASE_WAIT_MAX_MS = 25_000;

/** Page size bounds for `GET /api/v1/tasks/:id/events`. */
export const EVENTS_PAGE_DEFAULT = 500;
export const EVENTS_PAGE_MAX = 1_000;

/** Signed runner requests older (or newer) than this are refused: bounds replay windows. */
export const SIGNATURE_MAX_SKEW_SECONDS = 300;

/** A runner credential lives at least this long: less could expire before its first lease. */
export const RUNNER_CREDENTIAL_TTL_MIN_SECONDS = 60;
/** A day: long enough for a pod's life, short enough that a leaked one soon stops working. */
export const RUNNER_CREDENTIAL_TTL_DEFAULT_SECONDS = 86_400;
/** 30 days: a credential is meant to be short-lived; nothing revokes one before it expires. */
export const RUNNER_CREDENTIAL_TTL_MAX_SECONDS = 30 * 86_400;

/** CIDR ranges one API key may list: enough for offices, VPNs and CI egress, small enough to
 * check on every request without thought. */
export const KEY_CIDRS_MAX = 32;

/** After a rotation the old secret keeps working this long by default: a day is enough to roll
 * a new secret through deploy pipelines without an outage. */
export const KEY_ROTATION_OVERLAP_DEFAULT_SECONDS = 86_400;

/** The longest overlap a rotation may ask for: a leaked key must not stay usable for months. */
export const KEY_ROTATION_OVERLAP_MAX_SECONDS = 7 * 86_400;

/** Secrets of one key that may work at once (the current one and those still in overlap);
 * rotating again past this is refused until an overlap ends, or rotate with overlap 0. */
export const KEY_LIVE_SECRETS_MAX = 3;

/** Keys one key-store shard holds (16 shards, by key id), revoked ones included: far more than
 * any team needs, and a bound on the store should a script go wrong. */
export const KEYS_MAX = 10_000;

/** Page size bounds for `GET /api/v1/tasks`. */
export const TASKS_PAGE_DEFAULT = 50;
export const TASKS_PAGE_MAX = 200;

/** The start of a task's prompt the task index keeps, for lists; the whole prompt stays in the
 * task. It keeps index rows small (~500 bytes) whatever the prompt's size. */
export const TASK_INDEX_PROMPT_CHARS = 120;

/** Page size bounds for `GET /api/v1/runners`: a page of the largest pool (1,000 runners) fits
 * in one, and the answer stays a few hundred KB. */
export const RUNNERS_PAGE_DEFAULT = 200;
export const RUNNERS_PAGE_MAX = 1_000;

/** Page size bounds for `GET /api/v1/keys`. */
export const KEYS_PAGE_DEFAULT = 50;
export const KEYS_PAGE_MAX = 200;

/** Audit log retention: 90 days. The log is kept in one object per day and slice of actors,
 * and each empties itself when its day leaves the window; no row cap is needed. */
export const AUDIT_RETENTION_DAYS = 90;

/** Page size bounds for `GET /api/v1/audit`. */
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 500;

/** Page size bounds for `GET /api/v1/dead-letters`. */
export const DEAD_LETTERS_PAGE_DEFAULT = 100;
export const DEAD_LETTERS_PAGE_MAX = 500;
