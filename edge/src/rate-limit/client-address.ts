/**
 * The one rule for where a request comes from, for every address-based decision: an API key's
 * `allowed_cidrs`, the auth-failure lockout, the per-address stream limit and the audit log.
 *
 * The address is read only from the header the operator declares trustworthy in
 * `CLIENT_ADDRESS_HEADER`: `CF-Connecting-IP` on Cloudflare (Cloudflare sets it on every request
 * and overwrites whatever a client sent), or the header a proxy in front of a self-hosted
 * workerd sets. Anywhere else (`wrangler dev`, a workerd reached directly) every header is the
 * client's to choose, so the setting is `none` and there is no address at all — never a guess.
 *
 * A list-valued header (`X-Forwarded-For: forged, client`) counts only its rightmost entry: a
 * proxy appends the address it saw, so everything to the left of it came from the client.
 * That is right for one proxy hop; behind several, the outermost proxy should set a header of
 * its own (overwriting it) and that header is the one to declare. Anything that is not a plain
 * IPv4 or IPv6 address (a port, brackets, a name) counts as no address.
 *
 * With no address, callers fall back to rules a client cannot turn against everyone: keys with
 * `allowed_cidrs` are refused, the lockout counts per presented credential, the stream limit
 * per key id, and audit records carry no address. With `none`, the first request of each
 * isolate logs a warning saying so.
 * @module
 */
import { parseIp } from "#api/cidr.js";
import { edgeConfig, type Env } from "../env.js";
import { logFor } from "../log.js";

/** What `clientAddress` reads: a request's headers and the Worker's bindings (a Hono context fits). */
export interface AddressSource {
  req: { header(name: string): string | undefined };
  env: Env;
}

const warned = new WeakSet<object>();

/**
 * The client's address (lower-case IPv4 or IPv6 text), or null when the edge has none it can
 * trust for this request.
 * @example const address = clientAddress(c); if (address === null) { ...fall back... }
 */
export function clientAddress(c: AddressSource): string | null {
  const header = edgeConfig(c.env).clientAddressHeader;
  if (header === null) {
    warnOnce(c.env);
    return null;
  }
  const value = c.req.header(header);
  if (!value) return null;
  const rightmost = value
    .slice(value.lastIndexOf(",") + 1)
    .trim()
    .toLowerCase();
  return parseIp(rightmost) ? rightmost : null;
}

/** Once per isolate (per bindings object, which is one per isolate in production). */
function warnOnce(env: Env): void {
  if (warned.has(env)) return;
  warned.add(env);
  logFor(env).warn(
    "no trustworthy client address (CLIENT_ADDRESS_HEADER=none): API keys with allowed_cidrs are refused, failed authentications are counted per presented key, stream connections per key, and audit records carry no address",
    { setting: "CLIENT_ADDRESS_HEADER" },
  );
}
