// The KEDA manifests (deploy/keda/) as they ship and as docs/deployment.md quotes them: valid
// YAML of the right kinds, a query on the metric families the edge really exports, the
// threshold and pool of the Deployment they scale, a run-once runner the runner's own
// configuration accepts — and the scaling rule they implement (runner/src/scaling/desired-replicas.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { METRIC_FAMILIES } from "#api/metrics.js";
import { mintRunnerCredential } from "#api/runner-credential.js";
import { loadConfig } from "../../runner/src/config.js";
import { desiredReplicas } from "../../runner/src/scaling/desired-replicas.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";

interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
  args?: string[];
  env: EnvVar[];
  envFrom: { secretRef: { name: string } }[];
}
interface PodTemplate {
  spec: { restartPolicy?: string; containers: Container[] };
}
interface Trigger {
  type: string;
  metricType?: string;
  metadata: Record<string, string>;
}
/** The fields of the manifests these tests read. */
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: Trigger[];
    jobTargetRef: { template: PodTemplate };
    template: PodTemplate;
  };
}
const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), "utf8");
const scaledObject = parse(read("deploy/keda/scaled-object.yaml")) as Manifest;
const scaledJob = parse(read("deploy/keda/scaled-job.yaml")) as Manifest;
const deploymentDoc = read("docs/deployment.md");

/** The Deployment docs/deployment.md gives for Kubernetes: the one the ScaledObject scales. */
function documentedDeployment(): Manifest {
  const blocks = [...deploymentDoc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const docs = blocks.flatMap((block) => parseAllDocuments(block).map((d) => d.toJS() as Manifest | null));
  const deployment = docs.find((d) => d?.kind === "Deployment");
  expect(deployment, "docs/deployment.md has a Deployment").toBeDefined();
  return deployment!;
}

/** A container's literal `env` entries as a map (valueFrom ones left out). */
function envOf(container: Container): Record<string, string> {
  return Object.fromEntries(container.env.flatMap((e) => (typeof e.value === "string" ? [[e.name, e.value]] : [])));
}

const QUERY_METRICS = /\b(codeforge_[a-z_]+)\{pool="([a-z0-9._-]+)"\}/g;

function checkTrigger(manifest: Manifest, pool: string, threshold: string) {
  expect(manifest.spec.triggers).toHaveLength(1);
  const [trigger] = manifest.spec.triggers;
  expect(trigger!.type).toBe("prometheus");
  const query = String(trigger!.metadata.query);
  const used = [...query.matchAll(QUERY_METRICS)].map((m) => ({ metric: m[1], pool: m[2] }));
  // Demand: queued plus running, both for the same pool, and nothing else.
  expect(used).toEqual([
    { metric: "codeforge_pool_queue_depth", pool },
    { metric: "codeforge_pool_tasks_in_progress", pool },
  ]);
  const families = new Set<string>(METRIC_FAMILIES.map((f) => f.name));
  for (const { metric } of used) expect(families.has(metric!), `${metric} is exported by the edge`).toBe(true);
  // A pool with no series yet must read 0, not fail the scaler.
  expect(query.match(/or vector\(0\)/g)).toHaveLength(2);
  expect(trigger!.metadata.threshold).toBe(threshold);
}

describe("deploy/keda/scaled-object.yaml", () => {
  it("scales the documented Deployment on its pool's queue plus tasks in progress, one threshold per CODEFORGE_CONCURRENCY", () => {
    const deployment = documentedDeployment();
    const env = envOf(deployment.spec.template.spec.containers[0]!);
    expect(scaledObject).toMatchObject({ apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject" });
    expect(scaledObject.spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    expect(scaledObject.spec.minReplicaCount).toBeLessThanOrEqual(scaledObject.spec.maxReplicaCount);
    expect(scaledObject.spec.triggers[0]?.metricType).toBe("AverageValue");
    checkTrigger(scaledObject, env.CODEFORGE_POOL!, env.CODEFORGE_CONCURRENCY!);
  });
});

describe("deploy/keda/scaled-job.yaml", () => {
  it("runs one run-once runner per Job, with an idle exit, which the runner's configuration accepts", async () => {
    expect(scaledJob).toMatchObject({ apiVersion: "keda.sh/v1alpha1", kind: "ScaledJob" });
    const job = scaledJob.spec.jobTargetRef;
    expect(job.template.spec.restartPolicy).toBe("Never");
    const container = job.template.spec.containers[0]!;
    expect(container.args).toEqual(["--once"]);
    const env = envOf(container);
    expect(env.CODEFORGE_IDLE_EXIT_SECONDS).toBeDefined();
    expect(container.envFrom[0]?.secretRef.name).toBeTruthy();
    // The pod's settings plus the credential its Secret holds: what the runner would start with.
    const { credential } = await mintRunnerCredential({ runnerSecret: "runner-secret-0123456789abcdef", pool: env.CODEFORGE_POOL!, ttlSeconds: 600 });
    const config = loadConfig({
      argv: container.args ?? [],
      env: { ...env, CODEFORGE_RUNNER_ID: "job-pod", CODEFORGE_RUNNER_CREDENTIAL: credential },
      readFile: () => "",
    });
    expect(config).toMatchObject({ once: true, pool: env.CODEFORGE_POOL, idle_exit_seconds: Number(env.CODEFORGE_IDLE_EXIT_SECONDS) });
    // A run-once runner runs one task: one task per Job.
    checkTrigger(scaledJob, config.pool, "1");
  });
});

describe("docs/deployment.md", () => {
  it("quotes both manifests as they ship, and the scaling rule", () => {
    expect(deploymentDoc).toContain(read("deploy/keda/scaled-object.yaml").trim());
    expect(deploymentDoc).toContain(read("deploy/keda/scaled-job.yaml").trim());
    expect(deploymentDoc).toContain("desired replicas = clamp(ceil((queued + in_progress) / concurrency), minReplicaCount, maxReplicaCount)");
  });
});

describe("desiredReplicas", () => {
  const bounds = { concurrency: 2, minReplicas: 0, maxReplicas: 10 };

  it("is ceil((queued + in progress) / concurrency)", () => {
    expect(desiredReplicas({ queued: 5, inProgress: 2 }, bounds)).toBe(4);
    expect(desiredReplicas({ queued: 1, inProgress: 0 }, bounds)).toBe(1);
    expect(desiredReplicas({ queued: 4, inProgress: 0 }, bounds)).toBe(2);
    expect(desiredReplicas({ queued: 3, inProgress: 0 }, { ...bounds, concurrency: 1 })).toBe(3);
  });

  it("keeps the runners of tasks still running when the queue is empty", () => {
    expect(desiredReplicas({ queued: 0, inProgress: 3 }, bounds)).toBe(2);
    expect(desiredReplicas({ queued: 0, inProgress: 0 }, bounds)).toBe(0);
  });

  it("stays within the bounds", () => {
    expect(desiredReplicas({ queued: 0, inProgress: 0 }, { ...bounds, minReplicas: 1 })).toBe(1);
    expect(desiredReplicas({ queued: 500, inProgress: 40 }, bounds)).toBe(10);
    expect(desiredReplicas({ queued: -1, inProgress: 0 }, bounds)).toBe(0);
  });

  it("refuses bounds that mean nothing", () => {
    expect(() => desiredReplicas({ queued: 1, inProgress: 0 }, { ...bounds, concurrency: 0 })).toThrow(RangeError);
    expect(() => desiredReplicas({ queued: 1, inProgress: 0 }, { ...bounds, minReplicas: 3, maxReplicas: 2 })).toThrow(RangeError);
  });
});
