/**
 * `shardIndex`: which of `shards` objects a name belongs to, for the sinks that spread one
 * concern over a fixed number of Durable Objects (metrics, audit log, key lookups).
 *
 * FNV-1a (32 bits), synchronous and cheap: the index is picked on request paths, so it must not
 * cost an `await` of `crypto.subtle`. It only spreads load; nothing relies on it being secret.
 * @module
 */

/** A stable index in `[0, shards)` for `name`. */
export function shardIndex(name: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
