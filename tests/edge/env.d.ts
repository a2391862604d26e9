// `env` from `cloudflare:test` / `cloudflare:workers` has the Worker's own bindings.
import type { Env as EdgeEnv } from "../../edge/src/env.js";

declare global {
  namespace Cloudflare {
    interface Env extends EdgeEnv {}
  }
}
