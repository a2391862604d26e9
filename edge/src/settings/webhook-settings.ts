/**
 * How webhooks are delivered (docs/webhooks.md): which callback URLs are accepted, when each
 * attempt is made and how long one may take.
 * @module
 */
import { z } from "zod";
import { booleanSetting, numberSetting } from "#api/settings.js";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from "../webhooks/retry-schedule.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

export const WebhookSettings = settingsSlice({
  /** Development only: accept http and loopback/private callback URLs. */
  allowLocal: ["WEBHOOKS_ALLOW_LOCAL", booleanSetting(false)],
  /** Delay before attempt 1, 2, 3… of a series (ms); its length is the number of attempts. */
  retryScheduleMs: [
    "WEBHOOK_RETRY_SCHEDULE_SECONDS",
    z
      .string()
      .optional()
      .transform((text, ctx): readonly number[] => {
        const parsed = parseRetrySchedule(text || DEFAULT_RETRY_SCHEDULE_SECONDS);
        if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
        return typeof parsed === "string" ? [] : parsed;
      }),
  ],
  /** One attempt's budget, from sending to the end of the response headers. */
  attemptTimeoutMs: ["WEBHOOK_TIMEOUT_SECONDS", numberSetting(z.number().min(0.1).max(60).default(15)).transform((s) => Math.round(s * 1_000))],
  /** Each delay is moved by up to ± this fraction at random, so retries of many tasks spread out. */
  jitter: ["WEBHOOK_RETRY_JITTER", numberSetting(z.number().min(0).max(0.5).default(0.1))],
});
export type WebhookConfig = ConfigOf<typeof WebhookSettings>;
