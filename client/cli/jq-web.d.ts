// jq-web ships no types: its CommonJS export is a promise of jq, compiled to WebAssembly.
declare module "jq-web" {
  interface JqWeb {
    /** `echo <json> | jq <flags> <filter>`: stdout without its last newline, undefined when empty; throws `{ exitCode, stderr }` when jq fails. */
    raw(json: string, filter: string, flags?: string[]): string | undefined;
  }
  const jq: Promise<JqWeb>;
  export default jq;
}
