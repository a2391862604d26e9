/**
 * How tests talk to the webhook receiver (`webhook-receiver.ts`): the script of answers a hook
 * gives and the record of what it received. No Node imports, so tests in workerd can use it.
 * @module
 */

/** How the receiver answers one request. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (to make the sender time out). */
  delayMs?: number;
}

/** Answers used in order, then `default` (200 "ok" when unset). */
export interface Script {
  responses?: ScriptedResponse[];
  default?: ScriptedResponse;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  /** The status it was answered with. */
  answeredWith: number;
}
