// Unit: secret masking of whole texts and of streams cut at every possible place.
import { describe, expect, it } from "vitest";
import { createSecretMasker, MASK } from "../../runner/src/secrets/secret-masker.js";

const TOKEN = "ghp_Secr3tTokenValue42";

/** Feeds `text` to a stream masker in pieces cut at `cuts`, and joins what comes out. */
function streamed(secrets: string[], text: string, cuts: number[]): string {
  const stream = createSecretMasker(secrets).createStream();
  let out = "";
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    out += stream.push(text.slice(from, cut));
    from = cut;
  }
  return out + stream.end();
}

describe("secret masker", () => {
  it("masks a secret wherever it appears, and leaves other text alone", () => {
    const masker = createSecretMasker([TOKEN]);
    expect(masker.mask(`token=${TOKEN}; again ${TOKEN}.`)).toBe(`token=${MASK}; again ${MASK}.`);
    expect(masker.mask("nothing secret here")).toBe("nothing secret here");
  });

  it("masks the base64, URL-encoded and JSON-escaped forms", () => {
    const secret = 'p@ss "word"/é+=';
    const masker = createSecretMasker([secret]);
    const b64 = Buffer.from(secret).toString("base64");
    expect(masker.mask(`b64 ${b64}`)).toBe(`b64 ${MASK}`);
    expect(masker.mask(`url ${encodeURIComponent(secret)}`)).toBe(`url ${MASK}`);
    expect(masker.mask(`json ${JSON.stringify({ k: secret })}`)).toBe(`json {"k":"${MASK}"}`);
    expect(masker.mask(`py ${JSON.stringify(secret).slice(1, -1).replace("é", "\\u00e9")}`)).toBe(`py ${MASK}`);
  });

  it("masks the secret inside an HTTP Basic header, at every byte alignment", () => {
    const masker = createSecretMasker([TOKEN]);
    for (const user of ["x", "xy", "xyz", "x-access-token"]) {
      const header = `Authorization: Basic ${Buffer.from(`${user}:${TOKEN}`).toString("base64")}`;
      const masked = masker.mask(header);
      expect(masked).toContain(MASK);
      // What is left of the base64 is at most the characters that mix in the neighbours' bits.
      const left = masked.replace("Authorization: Basic ", "").replace(MASK, "");
      expect(left.length).toBeLessThanOrEqual(Math.ceil((user.length + 1) / 3) * 4 + 8);
    }
  });

  it("masks each line of a multi-line secret, whatever the line endings", () => {
    const key = "-----BEGIN KEY-----\nAAAAline1secret\nBBBBline2secret\n-----END KEY-----";
    const masker = createSecretMasker([key]);
    expect(masker.mask(key)).toBe(MASK);
    const crlf = key.replace(/\n/g, "\r\n");
    expect(masker.mask(crlf)).not.toMatch(/line1secret|line2secret/);
    expect(masker.mask("just AAAAline1secret printed")).toBe(`just ${MASK} printed`);
  });

  it("ignores values too short to mask and empty secret lists", () => {
    const masker = createSecretMasker(["abc", "", null, undefined]);
    expect(masker.empty).toBe(true);
    expect(masker.mask("abc abc")).toBe("abc abc");
  });

  it("masks a secret split across two pieces, at every split point", () => {
    const text = `before ${TOKEN} after`;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(streamed([TOKEN], text, [cut])).toBe(`before ${MASK} after`);
    }
  });

  it("masks a secret fed one character at a time, and a base64 form split in three", () => {
    const text = `a${TOKEN}b`;
    expect(
      streamed(
        [TOKEN],
        text,
        [...text].map((_, i) => i),
      ),
    ).toBe(`a${MASK}b`);
    const b64 = Buffer.from(TOKEN).toString("base64");
    expect(streamed([TOKEN], `x ${b64} y`, [4, 9])).toBe(`x ${MASK} y`);
  });

  it("releases text at once when it cannot be the start of a secret", () => {
    const stream = createSecretMasker([TOKEN]).createStream();
    expect(stream.push("progress 10%\n")).toBe("progress 10%\n");
    // "ghp_" could be the start of the token: held back, and nothing more.
    expect(stream.push("next: ghp_")).toBe("next: ");
    expect(stream.push("not-it\n")).toBe("ghp_not-it\n");
    expect(stream.push(`${TOKEN.slice(0, 10)}`)).toBe("");
    expect(stream.end()).toBe(TOKEN.slice(0, 10));
  });

  it("holds back at most the longest form minus one character", () => {
    const secrets = [TOKEN, "another-secret-value"];
    const masker = createSecretMasker(secrets);
    const stream = masker.createStream();
    // A tail that is a prefix of the longest form is the most that can be held.
    const b64 = Buffer.from("another-secret-value").toString("base64");
    const longest = [TOKEN, b64, encodeURIComponent(TOKEN)].sort((a, b) => b.length - a.length)[0]!;
    const released = stream.push("z".repeat(100) + longest.slice(0, -1));
    expect(released.length).toBeGreaterThanOrEqual(100);
    expect(100 + longest.length - 1 - released.length).toBeLessThanOrEqual(longest.length - 1);
  });

  it("masks several secrets that overlap or nest, longest first", () => {
    const masker = createSecretMasker(["abcd1234", "abcd1234efgh"]);
    expect(masker.mask("xabcd1234efghx abcd1234")).toBe(`x${MASK}x ${MASK}`);
  });
});
