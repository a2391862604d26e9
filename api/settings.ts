/**
 * How a setting's text becomes a value, shared by the edge (`edge/src/settings/`) and the runner
 * (`runner/src/config.ts`), so that `CODEFORGE_LOCAL_MODE=yes` or `…=1` means the same to both.
 *
 * Values come as text from the environment (Worker bindings, `process.env`) or already typed
 * from the runner's YAML file; each parser takes either. Blank text is unset: the setting's
 * default applies, as if the variable were absent.
 * @module
 */
import { z } from "zod";

/** The words a boolean setting accepts, in any case and with spaces around them. */
export const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, "1": true, "0": false, yes: true, no: false };

/** `text` as a boolean by `BOOLEAN_WORDS`; undefined when it is none of them. */
export function parseBooleanWord(text: string): boolean | undefined {
  return BOOLEAN_WORDS[text.trim().toLowerCase()];
}

const blank = (value: unknown): value is string => typeof value === "string" && value.trim() === "";

/**
 * A boolean setting: `true/false`, `1/0` or `yes/no` (or a YAML boolean); blank or unset is
 * `defaultValue`; anything else is refused.
 * @example
 * booleanSetting(false).parse("Yes"); // true
 */
export function booleanSetting(defaultValue: boolean) {
  return z.preprocess(
    (value) => (blank(value) ? undefined : typeof value === "string" ? (parseBooleanWord(value) ?? value) : value),
    z.boolean({ error: "must be true or false (or 1/0, yes/no)" }).default(defaultValue),
  );
}

/** Text read as a number (`Number`, so `NaN` for words, which the schema then refuses); blank is unset. */
export function textToNumber(value: unknown): unknown {
  if (blank(value)) return undefined;
  return typeof value === "string" ? Number(value) : value;
}

/**
 * A number setting: `schema` (bounds, `.int()`, `.default()`) applied to the text read as a
 * number. Put the default inside `schema`, so that blank text gets it too.
 * @example
 * numberSetting(z.number().int().min(1).default(10)).parse(" 25 "); // 25
 */
export function numberSetting<T extends z.ZodType>(schema: T) {
  return z.preprocess(textToNumber, schema);
}

/** Comma-separated text as its non-blank items, trimmed; a list (from YAML) as it is. */
export function splitCommaList(value: unknown): unknown {
  return typeof value === "string"
    ? value
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean)
    : value;
}

/**
 * A list setting: comma-separated text, or a YAML list; `.pipe()` it to a schema of its items.
 * Unlike the other parsers, blank text is the empty list (it can mean "none", as
 * `RATE_LIMIT_FAIL_CLOSED=""` does); only an absent variable gets a `.default()`.
 * @example
 * CommaList.pipe(z.array(z.string().min(2))).parse("ab, cd,,ef"); // ["ab", "cd", "ef"]
 */
export const CommaList = z.preprocess(splitCommaList, z.array(z.string(), { error: "must be a list" }));
