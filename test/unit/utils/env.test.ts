import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { boolean, ConfigError, helpText, httpUrl, loadSettings, packageVersion, parseArguments, port, positiveMs, type SettingsSpec } from '../../../utils/env';

const spec = {
  PORT: { description: 'port to listen on', default: '8080', accepts: 'an integer 0-65535', schema: port },
  DELAY_MS: { description: 'delay', default: '1000', accepts: 'a positive integer (ms)', schema: positiveMs },
  MODE: { description: 'mode', default: 'fast', accepts: 'fast or slow', schema: z.enum(['fast', 'slow']) },
  PREFIX: { description: 'prefix', default: '', accepts: 'any string', schema: z.string() },
  TARGET: { description: 'target url', accepts: 'an http(s) URL', schema: httpUrl.optional() },
} satisfies SettingsSpec;

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadSettings(spec, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('loadSettings accepted the environment');
}

describe('loadSettings', () => {
  it('uses every default when nothing is set', () => {
    expect(loadSettings(spec, {})).toEqual({ PORT: 8080, DELAY_MS: 1000, MODE: 'fast', PREFIX: '', TARGET: undefined });
  });

  it('treats an empty string as unset', () => {
    expect(loadSettings(spec, { PORT: '', DELAY_MS: '', MODE: '', PREFIX: '', TARGET: '' })).toEqual({
      PORT: 8080,
      DELAY_MS: 1000,
      MODE: 'fast',
      PREFIX: '',
      TARGET: undefined,
    });
  });

  it('coerces numeric strings to numbers and keeps the given values', () => {
    const settings = loadSettings(spec, { PORT: '9000', DELAY_MS: '25', MODE: 'slow', PREFIX: '/api', TARGET: 'https://lb.internal:8443/register' });
    expect(settings).toEqual({ PORT: 9000, DELAY_MS: 25, MODE: 'slow', PREFIX: '/api', TARGET: 'https://lb.internal:8443/register' });
    expect(typeof settings.PORT).toBe('number');
  });

  it('ignores variables it does not describe', () => {
    expect(loadSettings(spec, { UNRELATED: 'x' })).not.toHaveProperty('UNRELATED');
  });

  it('lists every bad variable at once, each with its value and what it accepts', () => {
    const problems = problemsOf({ PORT: '70000', DELAY_MS: '0', MODE: 'medium', TARGET: 'ftp://x' });
    expect(problems).toEqual([
      'PORT="70000": expected an integer 0-65535',
      'DELAY_MS="0": expected a positive integer (ms)',
      'MODE="medium": expected fast or slow',
      'TARGET="ftp://x": expected an http(s) URL',
    ]);
  });

  it('puts every problem in the error message', () => {
    let error: unknown;
    try {
      loadSettings(spec, { PORT: 'eighty', MODE: 'medium' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).name).toBe('ConfigError');
    expect((error as Error).message).toContain('PORT="eighty": expected an integer 0-65535');
    expect((error as Error).message).toContain('MODE="medium": expected fast or slow');
    expect((error as Error).message).not.toContain('DELAY_MS');
  });

  it('refuses non-integers and negatives for numeric settings', () => {
    expect(problemsOf({ PORT: '80.5' })).toEqual(['PORT="80.5": expected an integer 0-65535']);
    expect(problemsOf({ PORT: '-1' })).toEqual(['PORT="-1": expected an integer 0-65535']);
    expect(problemsOf({ DELAY_MS: '10ms' })).toEqual(['DELAY_MS="10ms": expected a positive integer (ms)']);
  });

  it('says (unset) for a required variable with no default', () => {
    const required = { KEY: { description: 'key', accepts: 'a string of at least 3 characters', schema: z.string().min(3) } } satisfies SettingsSpec;
    expect(() => loadSettings(required, {})).toThrow('KEY=(unset): expected a string of at least 3 characters');
    expect(() => loadSettings(required, { KEY: '' })).toThrow('KEY=(unset): expected a string of at least 3 characters');
  });
});

describe('boolean settings', () => {
  it('take on/off as well as true/false and 1/0, and nothing else', () => {
    expect(['on', 'true', '1'].map((v) => boolean.parse(v))).toEqual([true, true, true]);
    expect(['off', 'false', '0'].map((v) => boolean.parse(v))).toEqual([false, false, false]);
    expect(['yes', 'ON', ''].map((v) => boolean.safeParse(v).success)).toEqual([false, false, false]);
  });
});

describe('helpText', () => {
  const text = helpText('usage: thing [--help]', spec);

  it('starts with the usage line', () => {
    expect(text.startsWith('usage: thing [--help]\n')).toBe(true);
  });

  it('lists every variable with its description and its default', () => {
    const lines = text.split('\n');
    const lineOf = (name: string) => lines.find((l) => l.trimStart().startsWith(`${name} `));
    expect(lineOf('PORT')).toMatch(/PORT\s+port to listen on \(default: 8080\)$/);
    expect(lineOf('DELAY_MS')).toMatch(/DELAY_MS\s+delay \(default: 1000\)$/);
    expect(lineOf('MODE')).toMatch(/MODE\s+mode \(default: fast\)$/);
    expect(lineOf('PREFIX')).toMatch(/PREFIX\s+prefix \(default: ""\)$/);
    expect(lineOf('TARGET')).toMatch(/TARGET\s+target url$/);
  });

  it('aligns descriptions in one column', () => {
    const columns = Object.keys(spec).map((name) => {
      const line = text.split('\n').find((l) => l.trimStart().startsWith(`${name} `))!;
      return line.indexOf(spec[name as keyof typeof spec].description);
    });
    expect(new Set(columns).size).toBe(1);
  });
});

describe('secret settings', () => {
  const secretSpec = {
    TOKEN: { description: 'a secret', accepts: 'at least 16 characters', secret: true, schema: z.string().min(16) },
    NAME: { description: 'a name', accepts: 'at least 3 characters', schema: z.string().min(3) },
  } satisfies SettingsSpec;

  it('never puts the value of a secret setting in the error, only its length', () => {
    let error: unknown;
    try {
      loadSettings(secretSpec, { TOKEN: 'hunter2-short', NAME: 'x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(message).not.toContain('hunter2');
    expect(problems).toEqual(['TOKEN=(hidden, 13 characters): expected at least 16 characters', 'NAME="x": expected at least 3 characters']);
  });
});

describe('parseArguments', () => {
  it('accepts no arguments, --help, -h and --version', () => {
    expect(parseArguments([])).toEqual({ action: 'run' });
    expect(parseArguments(['--help'])).toEqual({ action: 'help' });
    expect(parseArguments(['-h'])).toEqual({ action: 'help' });
    expect(parseArguments(['--version'])).toEqual({ action: 'version' });
  });

  it('refuses an unknown flag or a stray argument, naming it', () => {
    expect(parseArguments(['--port', '9999'])).toEqual({ action: 'refuse', problem: expect.stringContaining('--port') });
    expect(parseArguments(['9999'])).toEqual({ action: 'refuse', problem: expect.stringContaining('9999') });
    expect(parseArguments(['--help', '--verbose'])).toEqual({ action: 'refuse', problem: expect.stringContaining('--verbose') });
  });

  it('points an unknown flag that looks like a setting at its variable', () => {
    const parsed = parseArguments(['--port=9999'], ['PORT', 'HOST']);
    expect(parsed).toEqual({ action: 'refuse', problem: expect.stringContaining('PORT=') });
  });
});

describe('packageVersion', () => {
  it("is package.json's version", () => {
    expect(packageVersion()).toBe((JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version);
  });
});
