/**
 * The address a request came from, for per-IP limits (auth failures, stream connections).
 *
 * In production Cloudflare sets `CF-Connecting-IP` and clients cannot forge it. Without it
 * (`wrangler dev` behind some proxies, tests) every such request shares one bucket, which is
 * the safe default: limits still hold, just for everyone at once. Anything that does not look
 * like an IP address is treated as absent rather than trusted as a key.
 * @module
 */
export const UNKNOWN_CLIENT_IP = "unknown";

const IP_LIKE = /^[0-9a-fA-F:.]{2,45}$/;

export function clientIp(headers: { header(name: string): string | undefined }): string {
  const value = headers.header("cf-connecting-ip")?.trim();
  return value && IP_LIKE.test(value) ? value.toLowerCase() : UNKNOWN_CLIENT_IP;
}
