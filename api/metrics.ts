/**
 * The edge's Prometheus metric families: one catalogue the edge renders `/metrics` from and the
 * OpenAPI document describes, so the two never disagree.
 *
 * Counters and histograms are aggregated globally (every isolate flushes into the `Metrics`
 * Durable Object); gauges are read from the pools' Dispatchers at scrape time.
 * @module
 */

export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
  /** Histogram upper bounds (seconds), without `+Inf`. */
  buckets?: readonly number[];
}

/** A task runs for seconds to half an hour (the default timeout): these bound its duration. */
export const TASK_DURATION_BUCKETS_SECONDS = [10, 30, 60, 120, 300, 600, 1_800] as const;

/** API requests answer in milliseconds; a long poll or a slow Durable Object in seconds. */
export const HTTP_DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** The path label of a request no route matched (many raw paths, one series). */
export const UNMATCHED_PATH_LABEL = "unmatched";

export const METRIC_FAMILIES = [
  {
    name: "codeforge_tasks_total",
    type: "counter",
    help: "Tasks that ended, by final status (succeeded, failed, timed_out, canceled).",
    labels: ["status"],
  },
  {
    name: "codeforge_tasks_duration_seconds",
    type: "histogram",
    help: "Time from a task's creation to its end (queueing, every attempt and the run), by final status and CLI.",
    labels: ["status", "cli"],
    buckets: TASK_DURATION_BUCKETS_SECONDS,
  },
  {
    name: "codeforge_tasks_in_progress",
    type: "gauge",
    help: "Tasks handed to a runner and not yet ended (leased or running), across pools.",
    labels: [],
  },
  {
    name: "codeforge_queue_depth",
    type: "gauge",
    help: "Tasks waiting in a queue for a runner, across pools.",
    labels: [],
  },
  {
    name: "codeforge_workers_active",
    type: "gauge",
    help: "Runners seen in the last two minutes that are running at least one task.",
    labels: [],
  },
  {
    name: "codeforge_workers_total",
    type: "gauge",
    help: "Runners seen in the last two minutes (lease polls or heartbeats), across pools.",
    labels: [],
  },
  {
    name: "codeforge_pool_queue_depth",
    type: "gauge",
    help: "Tasks waiting in one pool's queue: the autoscaler's signal.",
    labels: ["pool"],
  },
  {
    name: "codeforge_pool_tasks_in_progress",
    type: "gauge",
    help: "Tasks of one pool handed to a runner and not yet ended (leased or running): with the queue depth, what the pool's runners must hold.",
    labels: ["pool"],
  },
  {
    name: "codeforge_pool_oldest_queued_age_seconds",
    type: "gauge",
    help: "How long the oldest task in one pool's queue has waited (0 when the queue is empty).",
    labels: ["pool"],
  },
  {
    name: "codeforge_webhook_deliveries_total",
    type: "counter",
    help: "Webhook delivery attempts by outcome: delivered, retry (failed, another attempt is scheduled), failed (gave up: dead letter), gone (receiver answered 410).",
    labels: ["status"],
  },
  {
    name: "codeforge_http_requests_total",
    type: "counter",
    help: "HTTP requests the edge answered, by method, route pattern and status code.",
    labels: ["method", "path", "status"],
  },
  {
    name: "codeforge_http_request_duration_seconds",
    type: "histogram",
    help: "Time the edge took to answer, by method and route pattern.",
    labels: ["method", "path"],
    buckets: HTTP_DURATION_BUCKETS_SECONDS,
  },
] as const satisfies readonly MetricFamily[];

export type MetricFamilyName = (typeof METRIC_FAMILIES)[number]["name"];
