/**
 * Renders samples in the Prometheus text exposition format (version 0.0.4): for each family of
 * the catalogue, its `# HELP` and `# TYPE` lines, then its series — a histogram's buckets in
 * ascending `le` with `+Inf` last, then its `_sum` and `_count`.
 * @module
 */
import { METRIC_FAMILIES, type MetricFamily } from "#api/metrics.js";
import { seriesKey, type Sample } from "./samples.js";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}

function line(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`;
}

const leOrder = (le: string | undefined) => (le === "+Inf" ? Infinity : Number(le));

function familyLines(family: MetricFamily, samples: Sample[]): string[] {
  if (family.type !== "histogram") {
    return samples
      .filter((s) => s.name === family.name)
      .sort((a, b) => seriesKey("", a.labels).localeCompare(seriesKey("", b.labels)))
      .map((s) => line(s.name, s.labels, s.value));
  }
  // Group the histogram's samples by their labels without `le`.
  const groups = new Map<string, { labels: Record<string, string>; buckets: Sample[]; sum: number; count: number }>();
  for (const s of samples) {
    const suffix = s.name.slice(family.name.length);
    if (!s.name.startsWith(family.name) || !["_bucket", "_sum", "_count"].includes(suffix)) continue;
    const { le: _le, ...labels } = s.labels;
    const key = seriesKey("", labels);
    const group = groups.get(key) ?? { labels, buckets: [], sum: 0, count: 0 };
    groups.set(key, group);
    if (suffix === "_bucket") group.buckets.push(s);
    else if (suffix === "_sum") group.sum += s.value;
    else group.count += s.value;
  }
  const lines: string[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    // Every bound is written, including those no observation reached yet (cumulative: the previous value).
    const observed = new Map(group.buckets.map((b) => [leOrder(b.labels.le), b.value]));
    let running = 0;
    for (const le of [...(family.buckets ?? []), Infinity]) {
      running = Math.max(running, observed.get(le) ?? 0);
      lines.push(line(`${family.name}_bucket`, { ...group.labels, le: le === Infinity ? "+Inf" : String(le) }, running));
    }
    lines.push(line(`${family.name}_sum`, group.labels, group.sum));
    lines.push(line(`${family.name}_count`, group.labels, group.count));
  }
  return lines;
}

/** The whole exposition: every family of the catalogue, in catalogue order. */
export function renderPrometheus(samples: readonly Sample[]): string {
  const out: string[] = [];
  for (const family of METRIC_FAMILIES as readonly MetricFamily[]) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    out.push(`# TYPE ${family.name} ${family.type}`);
    out.push(
      ...familyLines(
        family,
        samples.filter((s) => s.name.startsWith(family.name)),
      ),
    );
  }
  return `${out.join("\n")}\n`;
}
