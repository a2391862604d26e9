/**
 * The egress proxy's way to an origin: only to addresses that were checked, within a deadline.
 *
 * An address is refused when it is non-public (`nonPublicRange`) and outside the operator's
 * `allowedNetworks`. The proxy connects to the checked addresses themselves — `net.connect` with
 * an IP literal does no lookup of its own — trying them in the resolver's order until one
 * answers, so a name that resolves differently a moment later (DNS rebinding) gains nothing.
 * A tunnel then splices the client and the origin together, half-close and all.
 * @module
 */
import net from "node:net";
import type { Duplex } from "node:stream";
import { cidrContains, nonPublicRange, parseIp, type CidrRange } from "#api/index.js";

/** The non-public range `address` lies in, unless an allowed network holds it; null when it may be reached. */
export function refusedRange(address: string, allowedNetworks: readonly CidrRange[]): string | null {
  const ip = parseIp(address);
  const range = nonPublicRange(ip ?? address);
  if (range === null) return null;
  return ip !== null && allowedNetworks.some((network) => cidrContains(network, ip)) ? null : range;
}

/** Connects to the checked addresses in the order the resolver gave them; the first to answer wins. */
export async function connectFirst(addresses: readonly string[], port: number, deadline: number): Promise<net.Socket> {
  let lastError: unknown = new TimeoutError();
  for (const address of addresses) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) throw new TimeoutError();
    try {
      return await connectTo(address, port, remainingMs);
    } catch (err) {
      if (err instanceof TimeoutError) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

function connectTo(address: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // An IP literal as host: net.connect does no lookup, so this is the pinned address.
    // Half-open allowed, so a client that ends its side still gets the origin's whole answer.
    const socket = net.connect({ host: address, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError());
    }, timeoutMs);
    // Stays attached: a later error is handled by whoever took the socket (splice, http.request),
    // and an error in between must not go unhandled. Rejecting a settled promise is a no-op.
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/**
 * Pipes both ways; an end travels across as an end (half-close), and when either side errors or
 * has closed both ways, both go.
 */
export function splice(a: Duplex, b: Duplex): void {
  const destroyBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.pipe(b);
  b.pipe(a);
  for (const side of [a, b]) {
    side.on("error", destroyBoth);
    side.on("close", destroyBoth);
  }
}

/** Resolving or connecting took longer than the proxy waits. */
export class TimeoutError extends Error {}

/** `promise`, or a `TimeoutError` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A socket or resolver error as its code (`ECONNREFUSED`, `ENOTFOUND`), else its message. */
export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}
