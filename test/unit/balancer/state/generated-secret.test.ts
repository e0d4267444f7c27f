import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generatedSecret } from '../../../../balancer/state/generated-secret';

/** The generated REGISTRATION_SECRET against a real STATE_DIR: printed once when new, kept with mode 0600, reused by path, never logged. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'secret-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(stateDir: string | undefined) {
  const logged: string[] = [];
  const printed: string[] = [];
  const log = pino({ level: 'trace' }, { write: (line: string) => void logged.push(line) });
  const secret = generatedSecret(stateDir, log, (text) => printed.push(text));
  return { secret, logged: logged.join(''), printed: printed.join('') };
}

describe('generatedSecret', () => {
  it('prints a new secret once, keeps it with mode 0600, and reuses it by path at the next start without printing or logging it', () => {
    const first = run(dir);
    const path = join(dir, 'secret');
    expect(first.printed).toBe(
      `REGISTRATION_SECRET was not set; generated one and kept it in ${path} for the next starts:\nREGISTRATION_SECRET=${first.secret}\n`,
    );
    expect(readFileSync(path, 'utf8')).toBe(`${first.secret}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.logged).not.toContain(first.secret);

    const second = run(dir);
    expect(second.secret).toBe(first.secret);
    expect(second.printed).toBe('');
    expect(second.logged).toContain(`"msg":"reusing the generated secret from ${path}"`);
    expect(second.logged).not.toContain(first.secret);
  });

  it('generates another, with a warn line that does not show the kept content, when the kept one is too short', () => {
    writeFileSync(join(dir, 'secret'), 'short-secret\n');
    const { secret, logged, printed } = run(dir);
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(logged).toContain('the kept secret is shorter than 16 characters; generating another');
    expect(logged).not.toContain('short-secret');
    expect(printed).toContain(`REGISTRATION_SECRET=${secret}`);
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe(`${secret}\n`);
  });

  it('without a STATE_DIR, generates one for this run, as before', () => {
    const { secret, printed } = run(undefined);
    expect(printed).toBe(`REGISTRATION_SECRET was not set; generated one for this run:\nREGISTRATION_SECRET=${secret}\n`);
    expect(run(undefined).secret).not.toBe(secret);
  });
});
