// GitHub's documented webhook payloads (the published @octokit/webhooks-examples set), with the
// `installation` every App delivery carries and the examples mostly lack.
import examples from "@octokit/webhooks-examples";
import type { WebhookEventMap, WebhookEventName } from "@octokit/webhooks-types";

export const INSTALLATION_ID = 4_242;

/** A deep copy of the first example of `name` whose action is `action`, with `installation.id` set. */
export function examplePayload<N extends WebhookEventName>(name: N, action?: string): WebhookEventMap[N] & { installation: { id: number } } {
  const definition = examples.find((d) => d.name === name);
  const example = definition?.examples.find((e) => action === undefined || (e as { action?: string }).action === action);
  if (!example) throw new Error(`no example of ${name}${action ? ` ${action}` : ""}`);
  const copy = structuredClone(example) as WebhookEventMap[N] & { installation: { id: number } };
  copy.installation = { id: INSTALLATION_ID };
  return copy;
}
