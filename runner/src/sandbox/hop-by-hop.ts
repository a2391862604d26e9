/**
 * Headers that belong to one connection, not to the message: the egress proxy and the model
 * gateway both pass messages on and must drop these (RFC 9110 §7.6.1).
 * @module
 */

/** Headers that describe one hop, not the message (RFC 9110 §7.6.1); never forwarded. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
