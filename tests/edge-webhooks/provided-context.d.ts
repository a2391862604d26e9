// What `tests/support/webhook-receiver-global-setup.ts` provides to this project's tests.
declare module "vitest" {
  export interface ProvidedContext {
    webhookReceiverUrl: string;
  }
}
export {};
