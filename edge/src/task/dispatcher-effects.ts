/**
 * Carries out the lifecycle's effects on the task's dispatcher — enqueue, release its key's
 * slot, dequeue — each as a span in the task's trace. Failures are logged, not thrown: the
 * task's re-queue alarm heals a lost enqueue or dequeue, and a lost release expires on its own
 * (`key-slots.ts`).
 * @module
 */
import { SpanKind } from "@opentelemetry/api";
import type { Dispatcher, Enqueued } from "../dispatcher/dispatcher.js";
import type { Logger } from "../log.js";
import { inTaskTrace } from "../tracing/task-span.js";
import type { Effect } from "./lifecycle.js";
import type { TaskRecord } from "./task-store.js";

/**
 * Carries out `effects` in order. Returns the dispatcher's answer to an enqueue, if there was
 * one and it answered; `onHandedOff` runs when the enqueue handed the task to a waiting runner.
 */
export async function carryOutEffects(
  effects: readonly Effect[],
  task: TaskRecord,
  context: { dispatcher: DurableObjectStub<Dispatcher>; traceparent: string | null; log: Logger; onHandedOff: () => void },
): Promise<Enqueued | null> {
  let enqueued: Enqueued | null = null;
  for (const effect of effects) {
    const answer = await inTaskTrace(context.traceparent, `Dispatcher.${effect}`, () => carryOutOne(effect, task, context), {
      kind: SpanKind.CLIENT,
      attributes: { "codeforge.task_id": task.id },
    });
    enqueued = answer ?? enqueued;
  }
  return enqueued;
}

async function carryOutOne(
  effect: Effect,
  task: TaskRecord,
  { dispatcher, log, onHandedOff }: { dispatcher: DurableObjectStub<Dispatcher>; log: Logger; onHandedOff: () => void },
): Promise<Enqueued | null> {
  try {
    if (effect === "enqueue") {
      const enqueued = await dispatcher.enqueue({
        taskId: task.id,
        priority: task.spec.priority,
        cli: task.spec.cli,
        labels: task.spec.labels,
        ownerKeyId: task.owner,
        maxConcurrent: task.maxConcurrent,
        timeoutMs: task.state.timeoutMs,
        pool: task.spec.pool,
      });
      if (enqueued.handedOff) onHandedOff();
      return enqueued;
    } else if (effect === "release") {
      // Lost only if this call fails; the slot then expires on its own (key-slots.ts).
      await dispatcher.releaseSlot(task.id);
    } else {
      await dispatcher.remove(task.id);
    }
  } catch (err) {
    log.warn(`dispatcher ${effect} failed; the alarm retries`, { error: String(err) });
  }
  return null;
}
