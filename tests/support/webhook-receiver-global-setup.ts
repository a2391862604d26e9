/**
 * Vitest `globalSetup` (Node): starts the webhook receiver once for the run and hands its URL
 * to the tests (which run in workerd) through `provide`.
 * @module
 */
import type { TestProject } from "vitest/node";
import { startWebhookReceiver } from "./webhook-receiver.js";

declare module "vitest" {
  export interface ProvidedContext {
    webhookReceiverUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const receiver = await startWebhookReceiver();
  project.provide("webhookReceiverUrl", receiver.url);
  return () => receiver.close();
}
