/**
 * `GET /api/v1/keys` across the key shards: each shard's newest keys before the cursor, asked
 * in parallel, merged newest first by (creation time, id). A cursor is the last key's position,
 * `<created_at ms>_<key id>`.
 * @module
 */
import type { ApiKey, ApiKeyList } from "#api/keys.js";
import type { Env } from "../env.js";
import { KEY_SHARDS, keyShard } from "./key-shards.js";

/** A key's place in the list. */
export interface KeyPosition {
  createdAt: number;
  id: string;
}

const positionOf = (k: ApiKey): KeyPosition => ({ createdAt: Date.parse(k.created_at), id: k.id });

export function parseKeyCursor(cursor: string): KeyPosition {
  const at = cursor.indexOf("_");
  return { createdAt: Number(cursor.slice(0, at)), id: cursor.slice(at + 1) };
}

export async function listKeysAcrossShards(env: Env, q: { limit: number; cursor?: string }): Promise<ApiKeyList> {
  const before = q.cursor === undefined ? null : parseKeyCursor(q.cursor);
  const pages = await Promise.all(Array.from({ length: KEY_SHARDS }, (_, i) => keyShard(env, i).page({ limit: q.limit + 1, before })));
  const all = pages.flat().sort((a, b) => {
    const pa = positionOf(a);
    const pb = positionOf(b);
    return pb.createdAt - pa.createdAt || (pb.id < pa.id ? -1 : pb.id > pa.id ? 1 : 0);
  });
  const keys = all.slice(0, q.limit);
  const last = keys[keys.length - 1];
  return { keys, next_cursor: all.length > q.limit && last ? `${positionOf(last).createdAt}_${last.id}` : null };
}
