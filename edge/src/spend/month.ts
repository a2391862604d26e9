/**
 * Calendar months (UTC) as monthly spend counts them: a month is named `YYYY-MM`, and its spend
 * starts again from 0 at the first instant of the next one. Pure: the time comes in, so tests
 * cross a month by choosing the time.
 * @module
 */

/** `YYYY-MM` of the UTC month holding `ms`. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** The first millisecond of the UTC month after the one holding `ms`: when its spend resets. */
export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
