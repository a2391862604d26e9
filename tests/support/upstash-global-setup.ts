/**
 * Vitest `globalSetup` (Node): starts Redis and the Upstash REST shim once for the run and
 * hands their address to the tests — and to the Worker's bindings — through `provide`.
 * @module
 */
import type { TestProject } from "vitest/node";
import { startUpstashStack } from "./upstash-stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    upstashUrl: string;
    upstashToken: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const stack = await startUpstashStack();
  project.provide("upstashUrl", stack.url);
  project.provide("upstashToken", stack.token);
  project.provide("redisUrl", stack.redis.url);
  return () => stack.stop();
}
