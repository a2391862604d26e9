/**
 * An isolate's unsent metric samples, and when to send them.
 *
 * Recording a request must not add a round trip to it, so samples are added up in memory and
 * flushed to the `Metrics` Durable Object in the background (`waitUntil`): at most every
 * `flushIntervalMs`, or sooner once `flushAfterRecords` requests are waiting. A failed flush
 * puts its samples back for the next one, so a count is late rather than lost while the isolate
 * lives; what an evicted isolate had not yet flushed (a few seconds' worth) is lost, which is
 * the price of not paying a round trip per request.
 * @module
 */
import { SampleSet, type Observation, type Sample } from "./samples.js";

export interface MetricsBufferOptions {
  /** Longest a recorded sample waits for its flush. */
  flushIntervalMs: number;
  /** Records (requests) that trigger a flush before the interval is over. */
  flushAfterRecords: number;
}

export class MetricsBuffer {
  private readonly pending = new SampleSet();
  private records = 0;
  private lastFlushAt: number;
  private scheduled = false;

  /** `now`: when the buffer starts; its first flush comes an interval later, like every other. */
  constructor(
    private readonly options: MetricsBufferOptions,
    now: number = Date.now(),
  ) {
    this.lastFlushAt = now;
  }

  /** One record (request): counter samples and histogram observations. */
  record(samples: Iterable<Sample>, observations: readonly Observation[] = []): void {
    this.pending.add(samples);
    for (const o of observations) this.pending.observe(o);
    this.records += 1;
  }

  get pendingSeries(): number {
    return this.pending.size;
  }

  /**
   * After a record: how long to wait before flushing (0: now), or null when a flush already
   * planned will carry it. The caller waits that long in `waitUntil`, then calls `flush`.
   */
  planFlush(now: number): number | null {
    if (this.pending.size === 0) return null;
    if (this.records >= this.options.flushAfterRecords) {
      this.records = 0;
      return 0;
    }
    if (this.scheduled) return null;
    this.scheduled = true;
    return Math.max(0, this.lastFlushAt + this.options.flushIntervalMs - now);
  }

  /** Sends everything pending through `sink`; on failure keeps it for the next flush and rethrows. */
  async flush(sink: (samples: Sample[]) => Promise<void>, now: number): Promise<void> {
    this.scheduled = false;
    this.records = 0;
    this.lastFlushAt = now;
    if (this.pending.size === 0) return;
    const samples = this.pending.drain();
    try {
      await sink(samples);
    } catch (err) {
      this.pending.add(samples);
      throw err;
    }
  }
}
