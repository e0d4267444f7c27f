import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
  /** A credential: its value is never printed, not even in the configuration error (only its length). */
  readonly secret?: boolean;
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
    else problems.push(`${name}=${shown(raw, setting.secret === true)}: expected ${setting.accepts}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as SettingsOf<S>;
}

/** How a refused value appears in the error: a secret only by its length, so a log collector never gets it. */
function shown(raw: string | undefined, secret: boolean): string {
  if (raw === undefined) return '(unset)';
  return secret ? `(hidden, ${raw.length} characters)` : JSON.stringify(raw);
}

export function helpText(usage: string, spec: SettingsSpec): string {
  const width = Math.max(...Object.keys(spec).map((n) => n.length));
  const lines = Object.entries(spec).map(([name, s]) => {
    const dflt = s.default === undefined ? '' : ` (default: ${s.default === '' ? '""' : s.default})`;
    return `  ${name.padEnd(width)}  ${s.description}${dflt}`;
  });
  return `${usage}\n\nEnvironment variables (a .env file in the working directory is read too):\n${lines.join('\n')}\n`;
}

export type ParsedArguments = { action: 'run' | 'help' | 'version' } | { action: 'refuse'; problem: string };

/**
 * The command line of both entrypoints: settings come from the environment only, so the only
 * arguments are --help/-h and --version. Anything else is refused rather than ignored: an ignored
 * `--port 9999` would start a process on the default port that the operator believes is elsewhere.
 */
export function parseArguments(args: readonly string[], settingNames: readonly string[] = []): ParsedArguments {
  let action: 'run' | 'help' | 'version' = 'run';
  for (const arg of args) {
    if (arg === '--help' || arg === '-h') action = 'help';
    else if (arg === '--version') action = action === 'help' ? 'help' : 'version';
    else return { action: 'refuse', problem: unknownArgument(arg, settingNames) };
  }
  return { action };
}

function unknownArgument(arg: string, settingNames: readonly string[]): string {
  const flag = arg.split('=', 1)[0];
  const variable = flag.replace(/^-+/, '').replace(/-/g, '_').toUpperCase();
  const hint = settingNames.includes(variable) ? ` (settings are environment variables: ${variable}=... node ...)` : '';
  return `${arg.startsWith('-') ? 'unknown option' : 'unexpected argument'} ${JSON.stringify(flag)}${hint}`;
}

/** The version in package.json, found by walking up from this file (utils/ in the sources, dist/utils/ when built). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (dirname(dir) === dir) return 'unknown';
  }
}

/**
 * The start of both entrypoints: `--help` prints the variables and `--version` the version, and both
 * return undefined; an unknown argument or a bad environment prints every problem and exits 2;
 * otherwise the validated settings come back.
 */
export function settingsOrExit<T>(usage: string, spec: SettingsSpec, load: () => T, args: readonly string[] = process.argv.slice(2)): T | undefined {
  const parsed = parseArguments(args, Object.keys(spec));
  if (parsed.action === 'refuse') {
    process.stderr.write(`${parsed.problem}\nRun with --help to list every variable.\n`);
    process.exit(2);
  }
  if (parsed.action === 'help') {
    process.stdout.write(helpText(usage, spec));
    return undefined;
  }
  if (parsed.action === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
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
export const boolean = z.enum(['true', 'false', '1', '0', 'on', 'off']).transform((v) => v === 'true' || v === '1' || v === 'on');
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
