/**
 * A per-isolate cache of key lookups, so authenticating a request does not cost a round trip
 * to the key store every time.
 *
 * Entries live `KEY_CACHE_TTL_MS` at most: that is the bound on how long a revocation (or a
 * rotation that ends an old secret at once) made through another isolate can go unnoticed
 * here. Expiry times are not cached decisions: they are checked against the clock on every
 * request, so an expiry takes effect to the millisecond. Unknown hashes are not cached, so a
 * flood of wrong keys cannot push real ones out.
 * @module
 */
import type { KeyCredential } from "./key-store.js";

/** Revocation reaches every isolate within this. Short enough to be "seconds", long enough
 * that a busy key costs the key store one lookup per isolate every few seconds, not one per request. */
export const KEY_CACHE_TTL_MS = 5_000;

/** Keys one isolate remembers; the oldest entry goes first. Bounds memory whatever is sent. */
export const KEY_CACHE_MAX_ENTRIES = 1_000;

interface Entry {
  credential: KeyCredential;
  fetchedAt: number;
}

export class KeyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}) {
    this.ttlMs = options.ttlMs ?? KEY_CACHE_TTL_MS;
    this.maxEntries = options.maxEntries ?? KEY_CACHE_MAX_ENTRIES;
    this.now = options.now ?? (() => Date.now());
  }

  /** The cached credential for `hash`, unless it is older than the TTL. */
  get(hash: string): KeyCredential | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    const age = this.now() - entry.fetchedAt;
    // A clock that went backwards (or a fake one) must not make an entry live forever.
    if (age >= this.ttlMs || age < 0) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.credential;
  }

  set(hash: string, credential: KeyCredential): void {
    this.entries.delete(hash);
    this.entries.set(hash, { credential, fetchedAt: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Drops every entry of a key: this isolate just revoked or rotated it. */
  forgetKey(keyId: string): void {
    for (const [hash, entry] of this.entries) if (entry.credential.key.id === keyId) this.entries.delete(hash);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The isolate's cache, shared by the auth middleware and the key routes. */
export const keyCache = new KeyCache({ now: () => Date.now() });
