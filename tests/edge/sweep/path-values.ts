/**
 * Odd path and query values for the OpenAPI sweep: unicode, `..`, very long, broken
 * percent-encoding, and fast-check strings encoded as a sloppy client would.
 */
import fc from "fast-check";

const ODD_VALUES = [
  "..",
  "%2e%2e",
  "a..b",
  "..%2f..%2f",
  "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
  "%zz",
  "%",
  "%00",
  "%ff%fe",
  "%ED%A0%80",
  "%E2%80%AE",
  encodeURIComponent("\u202eevil\u0000"),
  encodeURIComponent("😀".repeat(30)),
  "x".repeat(8_000),
  encodeURIComponent("'; DROP TABLE task; --"),
  "-1",
  "1e999",
  "NaN",
  "[object Object]",
  "__proto__",
  "constructor",
];

export const oddValue = fc.oneof(
  fc.constantFrom(...ODD_VALUES),
  fc.string({ unit: "binary", maxLength: 40 }).map(encodeURIComponentLoose),
  fc.string({ unit: "binary-ascii", maxLength: 40 }).map((s) => s.replace(/[#?/\\\s]/g, "")),
);

/** A path segment that stays one segment: not empty and not a dot segment the URL parser would resolve. */
export const oddSegment = oddValue.filter((v) => !/^(\.|%2e)*$/i.test(v));

/** Percent-encodes what URL parsing would otherwise mangle; lone surrogates as the bytes a sloppy client sends. */
function encodeURIComponentLoose(raw: string): string {
  let out = "";
  for (const ch of raw) {
    const u = ch.charCodeAt(0);
    if (ch.length === 1 && u >= 0xd800 && u <= 0xdfff)
      out += `%ED%${(0xa0 | ((u >> 6) & 0x1f)).toString(16).toUpperCase()}%${(0x80 | (u & 0x3f)).toString(16).toUpperCase()}`;
    else out += encodeURIComponent(ch);
  }
  return out;
}
