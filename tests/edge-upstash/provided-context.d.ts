// What `tests/support/upstash-global-setup.ts` provides to this project's tests.
declare module "vitest" {
  export interface ProvidedContext {
    upstashUrl: string;
    upstashToken: string;
    redisUrl: string;
  }
}
export {};
