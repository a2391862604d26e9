/**
 * Task states for the unit tests of the pure task state machine (`lifecycle-*.test.ts`): a
 * queued task, and the steps that lease it and start it running, at a fixed clock.
 */
import * as lifecycle from "../../edge/src/task/lifecycle.js";
import type { LifecycleState, Timing } from "../../edge/src/task/lifecycle.js";

export const T0 = 1_700_000_000_000;
export const timing: Timing = { leaseTtlMs: 30_000, cancelGraceMs: 19_000 };

export function queued(overrides: { maxAttempts?: number; timeoutMs?: number } = {}): LifecycleState {
  return lifecycle.initialState({ maxAttempts: overrides.maxAttempts ?? 3, timeoutMs: overrides.timeoutMs ?? 600_000, now: T0 }).state;
}

/** Unwraps a decision that must succeed. */
export function ok(decision: lifecycle.Decision): Extract<lifecycle.Decision, { ok: true }> {
  if (!decision.ok) throw new Error(`expected ok, got ${decision.code}: ${decision.message}`);
  return decision;
}

export function leased(s: LifecycleState, now: number, leaseHash = "hash-1", runnerId = "runner-1"): LifecycleState {
  return ok(lifecycle.lease(s, { runnerId, leaseHash, now }, timing)).state;
}

export function running(s: LifecycleState, now: number, leaseHash = "hash-1"): LifecycleState {
  return ok(lifecycle.heartbeat(s, { leaseHash, phase: "running", now }, timing)).state;
}
