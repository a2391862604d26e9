/**
 * Metric samples as the edge moves them around: a series (family sample name plus labels) and
 * a value to add. Counters add 1; a histogram observation becomes its cumulative buckets, sum
 * and count here, so every later step (buffer, outbox, Durable Object) only ever adds numbers.
 * @module
 */

/** One series and what to add to it. Plain data: it crosses Durable Object RPC as is. */
export interface Sample {
  /** The sample name: a family name, or a histogram's `_bucket` / `_sum` / `_count`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A stable key for a series: the name and its labels sorted by label name. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]!]);
  return `${name}${JSON.stringify(sorted)}`;
}

/** Parses a key made by `seriesKey` back into its name and labels. */
export function parseSeriesKey(key: string): { name: string; labels: Record<string, string> } {
  const at = key.indexOf("[");
  const pairs = JSON.parse(key.slice(at)) as [string, string][];
  return { name: key.slice(0, at), labels: Object.fromEntries(pairs) };
}

/** A counter increment. */
export function counterSample(name: string, labels: Record<string, string>, by = 1): Sample {
  return { name, labels, value: by };
}

/** One histogram observation as the samples it adds to (buckets are cumulative: `le` ≥ value). */
export function histogramSamples(name: string, labels: Record<string, string>, value: number, buckets: readonly number[]): Sample[] {
  const samples: Sample[] = [];
  for (const le of buckets) if (value <= le) samples.push({ name: `${name}_bucket`, labels: { ...labels, le: String(le) }, value: 1 });
  samples.push({ name: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: 1 });
  samples.push({ name: `${name}_sum`, labels, value });
  samples.push({ name: `${name}_count`, labels, value: 1 });
  return samples;
}

/** Adds samples of the same series together: what a flush or an outbox entry carries. */
export class SampleSet {
  private readonly values = new Map<string, number>();

  add(samples: Iterable<Sample>): void {
    for (const s of samples) {
      const key = seriesKey(s.name, s.labels);
      this.values.set(key, (this.values.get(key) ?? 0) + s.value);
    }
  }

  get size(): number {
    return this.values.size;
  }

  toSamples(): Sample[] {
    return [...this.values].map(([key, value]) => ({ ...parseSeriesKey(key), value }));
  }

  /** The samples, leaving the set empty. */
  drain(): Sample[] {
    const samples = this.toSamples();
    this.values.clear();
    return samples;
  }
}
