/**
 * Named limits shared by the edge and the runner.
 *
 * Every buffer, log and row in CodeForge has a bound, and each bound lives here with the
 * reason it has the value it has, so both sides of the protocol agree on them.
 * @module
 */

/** A prompt is text for a model; 200 000 characters is far beyond any real instruction. */
export const PROMPT_MAX_CHARS = 200_000;

/** Request bodies on the public API: a task spec with a maximal prompt fits comfortably. */
export const API_BODY_MAX_BYTES = 1_048_576;

/** Runner event batches: up to 32 chunks of 16 KiB plus their JSON framing. */
export const RUNNER_BODY_MAX_BYTES = 1_048_576;

/** One output chunk (one stored row, one WebSocket frame); rows stay far below SQLite's 2 MB. */
export const OUTPUT_CHUNK_MAX_BYTES = 16_384;

/** Chunks in one event batch; together with the chunk size this caps a batch at 512 KiB. */
export const BATCH_MAX_EVENTS = 32;

/** Output kept per task by default (operators may change it); beyond it a truncation marker. */
export const OUTPUT_MAX_BYTES_DEFAULT = 32 * 1_048_576;

/** The size-capped patch in a result: big enough for real changes, small enough for JSON. */
export const PATCH_MAX_BYTES = 262_144;

/** Changed files listed in a result; the diff stat still counts all of them. */
export const CHANGED_FILES_MAX = 1_000;

/** Longest a runner may hold a lease request open waiting for work. */
export const LEASE_WAIT_MAX_MS = 25_000;

/** Page size bounds for `GET /api/v1/tasks/:id/events`. */
export const EVENTS_PAGE_DEFAULT = 500;
export const EVENTS_PAGE_MAX = 1_000;

/** Signed runner requests older (or newer) than this are refused: bounds replay windows. */
export const SIGNATURE_MAX_SKEW_SECONDS = 300;
