/**
 * W3C Trace Context (`traceparent`) values: parsed strictly, generated from the CSPRNG.
 *
 * A task keeps one trace id for its life — ours, started by the edge for the request that
 * created it (a client's `traceparent` is never continued; see docs/tracing.md) — so the lease,
 * the runner's reports and the webhook that reports its end are all in one trace. Each
 * outgoing request gets a fresh span (parent) id.
 * @module
 */

/** `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`; all-zero ids are invalid. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceContext {
  traceId: string;
  parentId: string;
  flags: string;
}

/** Parses a `traceparent` header; null when absent or malformed (then a new trace starts). */
export function parseTraceparent(header: string | null | undefined): TraceContext | null {
  const match = header ? TRACEPARENT.exec(header.trim()) : null;
  if (!match) return null;
  const [, traceId, parentId, flags] = match;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentId!)) return null;
  return { traceId: traceId!, parentId: parentId!, flags: flags! };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.parentId}-${context.flags}`;
}

/** A new trace, sampled. */
export function newTraceparent(): string {
  return formatTraceparent({ traceId: randomHex(16), parentId: randomHex(8), flags: "01" });
}

/** The same trace with a new span id: the `traceparent` of one outgoing request. */
export function childTraceparent(parent: string): string {
  const context = parseTraceparent(parent);
  if (!context) return newTraceparent();
  return formatTraceparent({ ...context, parentId: randomHex(8) });
}

function randomHex(bytes: number): string {
  let out = "";
  // A zero id is invalid; 64+ random bits make one vanishingly unlikely, but never emit it.
  do {
    out = "";
    for (const byte of crypto.getRandomValues(new Uint8Array(bytes))) out += byte.toString(16).padStart(2, "0");
  } while (/^0+$/.test(out));
  return out;
}
