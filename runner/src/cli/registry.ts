/**
 * The CLIs this runner can run, and only those.
 *
 * At start-up each adapter's availability check runs once; the runner then advertises only
 * the CLIs that passed in its lease requests, so the edge never offers it a task it would
 * have to fail.
 * @module
 */
import type { CliName } from "#api/index.js";
import type { CliAdapter } from "./cli-adapter.js";

export interface CliRegistry {
  /** The adapter for `name`, if it is installed here. */
  get(name: CliName): CliAdapter | undefined;
  /** Names to advertise in `LeaseRequest.clis`. */
  names(): CliName[];
}

/**
 * Checks every adapter and keeps the available ones.
 * @example
 * const registry = await createCliRegistry([createDemoAdapter()]);
 * registry.names(); // ["demo"]
 */
export async function createCliRegistry(adapters: readonly CliAdapter[]): Promise<CliRegistry> {
  const checked = await Promise.all(adapters.map(async (adapter) => ({ adapter, ok: await adapter.isAvailable().catch(() => false) })));
  const available = new Map(checked.filter((c) => c.ok).map((c) => [c.adapter.name, c.adapter] as const));
  return {
    get: (name) => available.get(name),
    names: () => [...available.keys()],
  };
}
