import { z } from 'zod';

/**
 * One environment variable: how to parse it, its default, and the line `--help` prints.
 * Both entrypoints describe their settings as a table of these, so validation and help never drift apart.
 */
export interface Setting<T> {
  readonly description: string;
  /** Shown by --help and used when the variable is unset or empty; absent means "no default". */
  readonly default?: string;
  /** What the variable accepts, in words, for the error message. */
  readonly accepts: string;
  readonly schema: z.ZodType<T>;
}

export type SettingsSpec = Record<string, Setting<unknown>>;
export type SettingsOf<S extends SettingsSpec> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** A configuration problem found at start; the message names the variable and what it accepts. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Called once by each entrypoint at start; throws ConfigError listing every bad variable at once. */
export function loadSettings<S extends SettingsSpec>(spec: S, env: NodeJS.ProcessEnv): SettingsOf<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(spec)) {
    const raw = env[name] === undefined || env[name] === '' ? setting.default : env[name];
    const parsed = setting.schema.safeParse(raw);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name}=${raw === undefined ? '(unset)' : JSON.stringify(raw)}: expected ${setting.accepts}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as SettingsOf<S>;
}

export function helpText(usage: string, spec: SettingsSpec): string {
  const width = Math.max(...Object.keys(spec).map((n) => n.length));
  const lines = Object.entries(spec).map(([name, s]) => {
    const dflt = s.default === undefined ? '' : ` (default: ${s.default === '' ? '""' : s.default})`;
    return `  ${name.padEnd(width)}  ${s.description}${dflt}`;
  });
  return `${usage}\n\nEnvironment variables (a .env file in the working directory is read too):\n${lines.join('\n')}\n`;
}

/**
 * The start of both entrypoints: `--help` prints the variables and returns undefined; a bad
 * environment prints every problem and exits 2; otherwise the validated settings come back.
 */
export function settingsOrExit<T>(usage: string, spec: SettingsSpec, load: () => T): T | undefined {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(helpText(usage, spec));
    return undefined;
  }
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\nRun with --help to list every variable.\n`);
    process.exit(2);
  }
}

// Reusable schemas: env values are strings, so each one parses text.
export const port = z.coerce.number().int().min(0).max(65535);
export const positiveMs = z.coerce.number().int().min(1);
export const nonNegativeInt = z.coerce.number().int().min(0);
export const positiveInt = z.coerce.number().int().min(1);
export const boolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const host = z.string().min(1);
export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
});
