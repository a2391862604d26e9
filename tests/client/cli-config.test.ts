/**
 * Unit: where `codeforge` takes its URL and key from — flags, then the environment, then the
 * config file, then the default — and the config files it refuses. Real files in a temporary
 * directory; only the permission bits are handed in for the platform case.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_URL, resolveConfig } from "../../client/cli/cli-config.js";
import { UsageError } from "../../client/cli/exit-codes.js";

let home: string;
let file: string;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "codeforge-cli-config-"));
  mkdirSync(join(home, ".config", "codeforge"), { recursive: true });
  file = join(home, ".config", "codeforge", "config.json");
});

afterEach(() => rmSync(home, { recursive: true, force: true }));

function writeConfig(content: object, mode = 0o600, path = file): void {
  writeFileSync(path, JSON.stringify(content));
  chmodSync(path, mode);
}

describe("resolveConfig", () => {
  it("takes flags over the environment over the file over the default, and says where each came from", () => {
    writeConfig({ url: "https://file.example", api_key: "cf_from_file" });
    const env = { HOME: home, CODEFORGE_URL: "https://env.example", CODEFORGE_API_KEY: "cf_from_env" };
    expect(resolveConfig({ flags: { url: "https://flag.example", key: "cf_from_flag" }, env })).toEqual({
      url: "https://flag.example",
      apiKey: "cf_from_flag",
      urlSource: "--url",
      keySource: "--key",
    });
    expect(resolveConfig({ flags: {}, env })).toMatchObject({
      url: "https://env.example",
      apiKey: "cf_from_env",
      urlSource: "CODEFORGE_URL",
      keySource: "CODEFORGE_API_KEY",
    });
    // Empty variables count as unset.
    expect(resolveConfig({ flags: {}, env: { HOME: home, CODEFORGE_URL: "", CODEFORGE_API_KEY: "" } })).toMatchObject({
      url: "https://file.example",
      apiKey: "cf_from_file",
      urlSource: file,
      keySource: file,
    });
    writeConfig({ api_key: "cf_from_file" });
    expect(resolveConfig({ flags: {}, env: { HOME: home } })).toMatchObject({ url: DEFAULT_URL, urlSource: "the default" });
  });

  it("reads --config, else CODEFORGE_CONFIG, instead of the default file", () => {
    const other = join(home, "other.json");
    const third = join(home, "third.json");
    writeConfig({ api_key: "cf_default" });
    writeConfig({ api_key: "cf_other" }, 0o600, other);
    writeConfig({ api_key: "cf_third" }, 0o600, third);
    expect(resolveConfig({ flags: { config: other }, env: { HOME: home, CODEFORGE_CONFIG: third } }).apiKey).toBe("cf_other");
    expect(resolveConfig({ flags: {}, env: { HOME: home, CODEFORGE_CONFIG: third } }).apiKey).toBe("cf_third");
    expect(() => resolveConfig({ flags: { config: join(home, "missing.json") }, env: { HOME: home } })).toThrow(
      /cannot read the config file .*missing\.json \(ENOENT\)/,
    );
  });

  it("refuses a file holding a key that the group or others can read or write, naming the chmod", () => {
    for (const mode of [0o644, 0o640, 0o620, 0o604]) {
      writeConfig({ api_key: "cf_secret_value" }, mode);
      const error = (() => {
        try {
          resolveConfig({ flags: {}, env: { HOME: home } });
        } catch (err) {
          return err as Error;
        }
        throw new Error(`mode ${mode.toString(8)} was accepted`);
      })();
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toBe(`${file} holds an API key but other users can access it (mode ${mode.toString(8).padStart(4, "0")}); run: chmod 600 ${file}`);
      expect(error.message).not.toContain("cf_secret_value");
    }
    writeConfig({ api_key: "cf_secret_value" }, 0o400);
    expect(resolveConfig({ flags: {}, env: { HOME: home } }).apiKey).toBe("cf_secret_value");
    // A world-readable file without a key is fine; so is any file where modes mean nothing.
    writeConfig({ url: "https://file.example" }, 0o644);
    expect(resolveConfig({ flags: { key: "cf_k" }, env: { HOME: home } }).url).toBe("https://file.example");
    writeConfig({ api_key: "cf_secret_value" }, 0o644);
    expect(resolveConfig({ flags: {}, env: { HOME: home }, fileMode: () => null }).apiKey).toBe("cf_secret_value");
  });

  it("names what is wrong with a bad file, a missing key or a bad URL", () => {
    writeFileSync(file, "{url: nope", { mode: 0o600 });
    expect(() => resolveConfig({ flags: {}, env: { HOME: home } })).toThrow(`${file} is not valid JSON`);
    writeConfig({ url: "https://x.example", token: "cf_x" });
    expect(() => resolveConfig({ flags: {}, env: { HOME: home } })).toThrow(/expected \{"url": "...", "api_key": "..."\}/);
    rmSync(file);
    expect(() => resolveConfig({ flags: {}, env: { HOME: home } })).toThrow(`no API key: pass --key, set CODEFORGE_API_KEY, or put "api_key" in ${file}`);
    expect(() => resolveConfig({ flags: { key: "k", url: "127.0.0.1:8787" }, env: { HOME: home } })).toThrow(
      /127\.0\.0\.1:8787 \(from --url\) is not (a|an http\(s\)) URL/,
    );
    expect(() => resolveConfig({ flags: { key: "k" }, env: { HOME: home, CODEFORGE_URL: "nope" } })).toThrow("nope (from CODEFORGE_URL) is not a URL");
  });
});
