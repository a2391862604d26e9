/**
 * Egress host patterns: which hosts an agent's sandbox may open connections to.
 *
 * A runner pool's policy lists patterns (`runner.yaml` `egress_allow`), a task may narrow it
 * (`egress_allow` on the task), and the runner's egress proxy checks every connection the
 * sandbox asks for against both. One grammar for all three, so what the edge accepts is what
 * the runner enforces:
 *
 * - `example.com` — that host only; `*.example.com` — any host below it (not `example.com`).
 * - An optional port: `example.com:8443`; `example.com:*` for any port. Without one a pattern
 *   allows 443 and 80 only, so allowing an API host does not also open its SSH or database
 *   ports.
 * - Host names only, lowercase letters, digits, `-` and `.`; no IP literals (an address is
 *   allowed by the CIDR setting `egress_allowed_networks`, which the public-address rule needs
 *   anyway for any non-public one).
 * @module
 */
import { z } from "zod";

/** Patterns one task or pool may list: a policy is a short list of API and registry hosts. */
export const EGRESS_PATTERNS_MAX = 64;

/** Ports a pattern without a port allows: HTTPS and plain HTTP. */
export const EGRESS_DEFAULT_PORTS: readonly number[] = [443, 80];

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const PATTERN = new RegExp(`^(\\*\\.)?(${LABEL}(?:\\.${LABEL})*)(?::(\\*|[0-9]{1,5}))?$`);

/** A parsed pattern. `port` null: the default ports; `"*"`: any port. */
export interface EgressHostRule {
  wildcard: boolean;
  host: string;
  port: number | "*" | null;
}

/** Parses a pattern, or says what is wrong with it. */
export function parseEgressHost(text: string): { ok: true; rule: EgressHostRule } | { ok: false; reason: string } {
  const lower = text.trim().toLowerCase();
  const match = PATTERN.exec(lower);
  if (!match || lower.length > 260) {
    return { ok: false, reason: "must be a host name such as api.example.com or *.example.com, with an optional :port or :*" };
  }
  const [, star, host, port] = match;
  if (/^[0-9.]+$/.test(host!)) return { ok: false, reason: "must be a host name, not an IP address (use egress_allowed_networks for addresses)" };
  if (star && !host!.includes(".")) return { ok: false, reason: "a wildcard needs a domain with a dot below it (*.example.com)" };
  let parsedPort: EgressHostRule["port"] = null;
  if (port === "*") parsedPort = "*";
  else if (port !== undefined) {
    parsedPort = Number(port);
    if (parsedPort < 1 || parsedPort > 65_535) return { ok: false, reason: "port must be from 1 to 65535" };
  }
  return { ok: true, rule: { wildcard: Boolean(star), host: host!, port: parsedPort } };
}

/** One egress host pattern, validated (normalized to lowercase). */
export const EgressHostPattern = z
  .string()
  .max(260)
  .transform((text, ctx) => {
    const parsed = parseEgressHost(text);
    if (parsed.ok) return text.trim().toLowerCase();
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(text.slice(0, 60))} ${parsed.reason}` });
    return z.NEVER;
  });
export type EgressHostPattern = z.infer<typeof EgressHostPattern>;

/** A list of patterns, as a pool policy or a task's narrowing of it. */
export const EgressAllowList = z.array(EgressHostPattern).max(EGRESS_PATTERNS_MAX);
export type EgressAllowList = z.infer<typeof EgressAllowList>;

/** Whether `rule` allows a connection to `host:port` (`host` as the client named it). */
export function egressRuleMatches(rule: EgressHostRule, host: string, port: number): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  const hostOk = rule.wildcard ? name.endsWith(`.${rule.host}`) : name === rule.host;
  if (!hostOk) return false;
  if (rule.port === "*") return true;
  if (rule.port === null) return EGRESS_DEFAULT_PORTS.includes(port);
  return rule.port === port;
}

/** Whether any of `patterns` allows `host:port`. Unparseable patterns allow nothing. */
export function egressAllows(patterns: readonly string[], host: string, port: number): boolean {
  return patterns.some((pattern) => {
    const parsed = parseEgressHost(pattern);
    return parsed.ok && egressRuleMatches(parsed.rule, host, port);
  });
}

/**
 * The patterns an attempt may use: the pool's policy, narrowed by the task's own list when it
 * has one. A host is reachable only when both allow it, so a task can never widen its pool.
 */
export function egressPermits(pool: readonly string[], task: readonly string[] | null, host: string, port: number): boolean {
  return egressAllows(pool, host, port) && (task === null || egressAllows(task, host, port));
}
