/** The `ConfigError` that `fn` throws; fails the test when it throws nothing or something else. */
import { ConfigError } from "../../runner/src/config.js";

export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}
