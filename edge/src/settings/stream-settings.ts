/**
 * How many clients may watch one task's stream, what the next one is told, and how often an
 * idle Server-Sent Events stream gets a heartbeat.
 * @module
 */
import { z } from "zod";
import { numberSetting } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

export const StreamSettings = settingsSlice({
  /** Concurrent watchers (WebSocket and Server-Sent Events together) one task accepts; the next gets `streamFullStatus`. */
  streamMaxWatchersPerTask: ["STREAM_MAX_WATCHERS_PER_TASK", numberSetting(z.number().int().min(1).default(250))],
  /** 503 (the default) or 429, for a watcher beyond the limit. */
  streamFullStatus: [
    "STREAM_FULL_STATUS",
    z
      .enum(["429", "503"])
      .default("503")
      .transform((status): 429 | 503 => (status === "429" ? 429 : 503)),
  ],
  /**
   * Milliseconds between the `: heartbeat` comments an SSE stream is sent while it is open, so
   * proxies that close idle connections (often after 30-100 s) leave it be.
   */
  streamSseHeartbeatMs: [
    "STREAM_SSE_HEARTBEAT_SECONDS",
    numberSetting(z.number().min(0.1).max(300).default(15)).transform((seconds) => Math.round(seconds * 1_000)),
  ],
});
export type StreamConfig = ConfigOf<typeof StreamSettings>;
