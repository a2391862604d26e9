/**
 * The one alarm of a task object, shared by every concern that has a deadline — "earliest
 * deadline wins", as in the scheduler of Cloudflare's agents SDK.
 *
 * A Durable Object has a single alarm. Each concern of the task (its lifecycle timers, webhook
 * deliveries, the task-index report, spend charges, metric reports, retention) registers here
 * with when it next needs waking and what it does then; `arm` sets the alarm to the earliest of
 * those wake-ups (or deletes it when none is pending), and `run` is the object's `alarm()`.
 * Nothing else sets or deletes the alarm. Arming is synchronous bookkeeping on top of reads:
 * callers arm in the same turn as the write that moved a deadline.
 * @module
 */

/** One concern's claim on the alarm. */
export interface AlarmConcern {
  /** What the concern is, in a word (for readers and logs). */
  readonly name: string;
  /** When the concern next needs the alarm (ms since the epoch), or null when it owes nothing. */
  nextWakeUp(now: number): number | null;
  /**
   * Runs at every alarm, in registration order, and does what it owes: at least what is due,
   * and work that is owed but not yet due may go early, since the object is awake anyway.
   * "stop" ends this alarm at once (the task is gone).
   */
  onAlarm?(now: number): Promise<void | "stop">;
  /** Counted only once no other concern needs a wake-up (deleting a task that owes nothing). */
  readonly whenIdle?: boolean;
  /**
   * Runs after the alarm was re-armed for what the others left: a send that re-arms itself
   * once done (metric reports), so the alarm is never left waiting on it.
   */
  readonly afterArming?: boolean;
}

/** The alarm-setting part of a Durable Object's storage. */
type AlarmStorage = Pick<DurableObjectStorage, "setAlarm" | "deleteAlarm">;

export class AlarmSchedule {
  private readonly concerns: AlarmConcern[] = [];

  constructor(private readonly storage: AlarmStorage) {}

  /** Adds a concern; the alarm runs concerns in the order they were registered. */
  register(concern: AlarmConcern): void {
    this.concerns.push(concern);
  }

  /** True when no concern but the `whenIdle` ones needs a wake-up. */
  othersIdle(now: number): boolean {
    return this.concerns.every((c) => c.whenIdle || c.nextWakeUp(now) === null);
  }

  /** The earliest wake-up any concern (but `except`, when given) needs; null when none is pending. */
  nextWakeUp(now: number, except?: AlarmConcern): number | null {
    const concerns = this.concerns.filter((c) => c !== except);
    const busy = concerns.filter((c) => !c.whenIdle).map((c) => c.nextWakeUp(now));
    const idle = busy.every((at) => at === null) ? concerns.filter((c) => c.whenIdle).map((c) => c.nextWakeUp(now)) : [];
    return earliestDeadline(...busy, ...idle);
  }

  /** Sets the alarm to the earliest wake-up, or deletes it when nothing is pending. */
  arm(now = Date.now()): void {
    const at = this.nextWakeUp(now);
    if (at === null) void this.storage.deleteAlarm();
    else void this.storage.setAlarm(at);
  }

  /** Sets the alarm to `at` whatever the concerns say (an overdue report found at start-up, a retry). */
  wakeAt(at: number): Promise<void> {
    return this.storage.setAlarm(at);
  }

  /** Deletes the alarm (the task is being deleted). */
  disarm(): Promise<void> {
    return this.storage.deleteAlarm();
  }

  /**
   * The object's `alarm()`: each concern does what it owes, in order; then the alarm is re-armed
   * for what is left, and the `afterArming` concerns run last.
   */
  async run(now: number): Promise<void> {
    for (const concern of this.concerns.filter((c) => !c.afterArming)) {
      if ((await concern.onAlarm?.(now)) === "stop") return;
    }
    this.arm();
    for (const concern of this.concerns.filter((c) => c.afterArming)) await concern.onAlarm?.(now);
  }
}

/** The earliest of some deadlines, null ones ignored; null when none is pending. */
export function earliestDeadline(...candidates: (number | null)[]): number | null {
  const due = candidates.filter((c): c is number => c !== null);
  return due.length ? Math.min(...due) : null;
}
