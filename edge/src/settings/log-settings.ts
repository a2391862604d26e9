/**
 * The edge's log settings: level, format and the share of high-volume lines written. `log.ts`
 * reads them leniently (a bad value gets its default), so that the logger works while the
 * configuration is bad and can say so; `edgeConfig` reads them strictly, like every setting.
 * @module
 */
import { z } from "zod";
import { numberSetting } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const LOG_FORMATS = ["json", "pretty"] as const;

/** One in ten high-volume lines: enough to see a runner polling, not one line per poll. */
const DEFAULT_LOG_SAMPLE_RATIO = 0.1;

export const LogSettings = settingsSlice({
  /** Lines below it are not written. */
  level: ["LOG_LEVEL", z.enum(LOG_LEVELS, { error: `LOG_LEVEL is one of ${LOG_LEVELS.join(", ")}` }).default("info")],
  /** `json` (one object a line) or `pretty` (one short human line). */
  format: ["LOG_FORMAT", z.enum(LOG_FORMATS, { error: "LOG_FORMAT is json or pretty" }).default("json")],
  /** Share (0..1) of `sampled` lines that are written. */
  sampleRatio: ["LOG_SAMPLE_RATIO", numberSetting(z.number().min(0).max(1).default(DEFAULT_LOG_SAMPLE_RATIO))],
});
export type LogConfig = ConfigOf<typeof LogSettings>;
