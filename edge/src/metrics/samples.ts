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

/** One histogram observation, before it is expanded into samples. */
export interface Observation {
  name: string;
  labels: Record<string, string>;
  value: number;
  buckets: readonly number[];
}

interface HistogramSeries {
  name: string;
  labels: Record<string, string>;
  buckets: readonly number[];
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Adds samples of the same series together: what a flush or an outbox entry carries.
 * Histogram observations are kept per series as bucket counts and expanded into samples only
 * when the set is read, so observing costs one series lookup, not one per bucket.
 */
export class SampleSet {
  private readonly values = new Map<string, number>();
  private readonly histograms = new Map<string, HistogramSeries>();

  add(samples: Iterable<Sample>): void {
    for (const s of samples) {
      const key = seriesKey(s.name, s.labels);
      this.values.set(key, (this.values.get(key) ?? 0) + s.value);
    }
  }

  observe(o: Observation): void {
    const key = seriesKey(o.name, o.labels);
    let h = this.histograms.get(key);
    if (!h) {
      h = { name: o.name, labels: o.labels, buckets: o.buckets, counts: o.buckets.map(() => 0), sum: 0, count: 0 };
      this.histograms.set(key, h);
    }
    for (let i = 0; i < h.buckets.length; i++) if (o.value <= h.buckets[i]!) h.counts[i]! += 1;
    h.sum += o.value;
    h.count += 1;
  }

  get size(): number {
    return this.values.size + this.histograms.size;
  }

  toSamples(): Sample[] {
    const samples: Sample[] = [...this.values].map(([key, value]) => ({ ...parseSeriesKey(key), value }));
    for (const h of this.histograms.values()) {
      h.buckets.forEach((le, i) => {
        if (h.counts[i]! > 0) samples.push({ name: `${h.name}_bucket`, labels: { ...h.labels, le: String(le) }, value: h.counts[i]! });
      });
      samples.push({ name: `${h.name}_bucket`, labels: { ...h.labels, le: "+Inf" }, value: h.count });
      samples.push({ name: `${h.name}_sum`, labels: h.labels, value: h.sum });
      samples.push({ name: `${h.name}_count`, labels: h.labels, value: h.count });
    }
    return samples;
  }

  /** The samples, leaving the set empty. */
  drain(): Sample[] {
    const samples = this.toSamples();
    this.values.clear();
    this.histograms.clear();
    return samples;
  }
}
