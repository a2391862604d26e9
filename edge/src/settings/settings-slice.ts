/**
 * One domain's settings, each written once: the config field, under its doc comment, with the
 * variable that sets it and the zod schema that parses the variable's text (bounds, default).
 * The shared text parsers (booleans, numbers, lists) are in `api/settings.ts`.
 *
 * `edgeConfig` (`env.ts`) reads every slice from the Worker's bindings, and the slices'
 * variable names give `Env` the settings `wrangler.toml` does not list (secrets, optional ones).
 * @module
 */
import { z } from "zod";

/** A setting: the variable that sets it and the schema that parses its text. */
export type Setting = readonly [variable: string, schema: z.ZodType];
type Settings = Readonly<Record<string, Setting>>;

/** The values of a slice's settings, by config field. */
export type Parsed<S extends Settings> = { -readonly [Field in keyof S]: z.output<S[Field][1]> };

/** Reports a problem with a variable's value, found once every value parsed. */
export type Problem = (variable: string, message: string) => void;

export interface SettingsSlice<Variable extends string, Config> {
  /** The variables the slice reads. */
  readonly variables: readonly Variable[];
  /** Reads the slice from `env`; `problems` name each bad variable (`VARIABLE: message`), and then `config` is absent. */
  read(env: object): { config?: Config; problems: string[] };
  /** As `read`, but a bad value gets its setting's default: for what must work while the configuration is bad (the logger). */
  readLenient(env: object): Config;
}

/**
 * Makes a slice from its settings, and a `finish` step for what takes more than one variable
 * (a pair set together, a default that depends on another setting).
 * @example
 * const Streams = settingsSlice({
 *   maxWatchersPerTask: ["STREAM_MAX_WATCHERS_PER_TASK", numberSetting(z.number().int().min(1).default(250))],
 * });
 * Streams.read({ STREAM_MAX_WATCHERS_PER_TASK: "10" }).config; // { maxWatchersPerTask: 10 }
 */
export function settingsSlice<const S extends Settings, Config = Parsed<S>>(
  settings: S,
  finish: (parsed: Parsed<S>, problem: Problem) => Config = (parsed) => parsed as unknown as Config,
): SettingsSlice<S[keyof S][0], Config> {
  const entries = Object.entries(settings);
  const schema = z.object(Object.fromEntries(entries.map(([, [variable, parse]]) => [variable, parse])));
  const byField = (values: Record<string, unknown>) => Object.fromEntries(entries.map(([field, [variable]]) => [field, values[variable]])) as Parsed<S>;
  return {
    variables: entries.map(([, [variable]]) => variable as S[keyof S][0]),
    read(env) {
      const parsed = schema.safeParse(env);
      if (!parsed.success) return { problems: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) };
      const problems: string[] = [];
      const config = finish(byField(parsed.data), (variable, message) => problems.push(`${variable}: ${message}`));
      return problems.length > 0 ? { problems } : { config, problems };
    },
    readLenient(env) {
      const values = Object.fromEntries(
        entries.map(([, [variable, parse]]) => {
          const parsed = parse.safeParse((env as Record<string, unknown>)[variable]);
          return [variable, parsed.success ? parsed.data : parse.parse(undefined)];
        }),
      );
      return finish(byField(values), () => {});
    },
  };
}

/** The config a slice gives. */
export type ConfigOf<Slice> = Slice extends SettingsSlice<string, infer Config> ? Config : never;

/** The variables a slice reads. */
export type VariableOf<Slice> = Slice extends SettingsSlice<infer Variable, unknown> ? Variable : never;
