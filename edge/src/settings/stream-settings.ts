/**
 * How many clients may watch one task's stream, and what the next one is told.
 * @module
 */
import { z } from "zod";
import { numberSetting } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

export const StreamSettings = settingsSlice({
  /** Concurrent WebSocket watchers one task accepts; the next gets `streamFullStatus`. */
  streamMaxWatchersPerTask: ["STREAM_MAX_WATCHERS_PER_TASK", numberSetting(z.number().int().min(1).default(250))],
  /** 503 (the default) or 429, for a watcher beyond the limit. */
  streamFullStatus: [
    "STREAM_FULL_STATUS",
    z
      .enum(["429", "503"])
      .default("503")
      .transform((status): 429 | 503 => (status === "429" ? 429 : 503)),
  ],
});
export type StreamConfig = ConfigOf<typeof StreamSettings>;
