/**
 * Views of the events a task streamed to the (fake) edge, as runner tests assert on them: the
 * agent's events, the runner's log lines, the agent's texts and the tools it used, in order.
 * @module
 */
import type { AgentEvent, LogEvent, RunnerEvent } from "#api/index.js";

/** The agent's events (`type: "agent"`), in stored order. */
export const agentEvents = (events: readonly RunnerEvent[]): AgentEvent[] => events.filter((e): e is AgentEvent => e.type === "agent");

/** The runner's log lines (`type: "log"`), as their messages. */
export const logMessages = (events: readonly RunnerEvent[]): string[] => events.flatMap((e) => (e.type === "log" ? [(e as LogEvent).message] : []));

/** The agent's `text` events, as their texts. */
export const agentTexts = (events: readonly RunnerEvent[]): string[] => agentEvents(events).flatMap((e) => (e.kind === "text" ? [e.text!] : []));

/** The tools the agent called (`tool_use` events), by name. */
export const toolUses = (events: readonly RunnerEvent[]): (string | undefined)[] => agentEvents(events).flatMap((e) => (e.kind === "tool_use" ? [e.tool] : []));
