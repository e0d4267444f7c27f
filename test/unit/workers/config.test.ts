import { hostname } from 'node:os';
import { loadWorkerConfig } from '../../../workers/config';
import { ConfigError } from '../../../utils/env';

const SECRET = 'worker-secret-0123456789';

function errorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadWorkerConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadWorkerConfig accepted ${JSON.stringify(env)}`);
}

describe('loadWorkerConfig', () => {
  it('has the documented defaults and runs stand-alone', () => {
    expect(loadWorkerConfig({})).toEqual({
      PORT: 8080,
      HOST: '0.0.0.0',
      NAME: hostname(),
      LOAD_BALANCER_REGISTER: undefined,
      REGISTRATION_SECRET: undefined,
      WORKER_URL: undefined,
      WORKER_WEIGHT: 1,
      WORKER_DELAY_MS: 1000,
      HEARTBEAT_INTERVAL_MS: 5000,
      SHUTDOWN_TIMEOUT_MS: 10000,
      LOG_LEVEL: 'info',
    });
  });

  it('accepts a registering worker with a long enough secret', () => {
    const config = loadWorkerConfig({
      LOAD_BALANCER_REGISTER: 'http://balancer:8080/register-worker',
      REGISTRATION_SECRET: SECRET,
      WORKER_URL: 'http://192.0.2.5:8081',
      WORKER_WEIGHT: '3',
      WORKER_DELAY_MS: '0',
      NAME: 'w1',
    });
    expect(config).toMatchObject({
      LOAD_BALANCER_REGISTER: 'http://balancer:8080/register-worker',
      REGISTRATION_SECRET: SECRET,
      WORKER_URL: 'http://192.0.2.5:8081',
      WORKER_WEIGHT: 3,
      WORKER_DELAY_MS: 0,
      NAME: 'w1',
    });
  });

  it('refuses LOAD_BALANCER_REGISTER without REGISTRATION_SECRET, naming the secret', () => {
    const error = errorOf({ LOAD_BALANCER_REGISTER: 'http://balancer:8080/register-worker' });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^REGISTRATION_SECRET=\(unset\): expected a string of at least 16 characters/);
    expect(error.problems[0]).toContain('LOAD_BALANCER_REGISTER');
  });

  it('treats an empty REGISTRATION_SECRET as missing', () => {
    const error = errorOf({ LOAD_BALANCER_REGISTER: 'http://balancer:8080/register-worker', REGISTRATION_SECRET: '' });
    expect(error.problems[0]).toMatch(/^REGISTRATION_SECRET=\(unset\)/);
  });

  it('refuses a secret shorter than 16 characters', () => {
    const error = errorOf({ LOAD_BALANCER_REGISTER: 'http://balancer:8080/register-worker', REGISTRATION_SECRET: 'short-secret' });
    expect(error.problems).toEqual(['REGISTRATION_SECRET=(hidden, 12 characters): expected a string of at least 16 characters']);
  });

  it('refuses a LOAD_BALANCER_REGISTER or WORKER_URL that is not http(s)', () => {
    const error = errorOf({ LOAD_BALANCER_REGISTER: 'balancer:8080', WORKER_URL: 'ftp://192.0.2.5', REGISTRATION_SECRET: SECRET });
    expect(error.problems.map((p) => p.split('=')[0])).toEqual(['LOAD_BALANCER_REGISTER', 'WORKER_URL']);
  });

  it('names a bad PORT and WORKER_WEIGHT with what they accept', () => {
    const error = errorOf({ PORT: '99999', WORKER_WEIGHT: '0' });
    expect(error.problems).toEqual(['PORT="99999": expected an integer 0-65535', 'WORKER_WEIGHT="0": expected an integer 1-1000']);
    expect(errorOf({ WORKER_WEIGHT: '1001' }).problems).toEqual(['WORKER_WEIGHT="1001": expected an integer 1-1000']);
  });

  it('refuses a negative WORKER_DELAY_MS and a zero HEARTBEAT_INTERVAL_MS', () => {
    expect(errorOf({ WORKER_DELAY_MS: '-1', HEARTBEAT_INTERVAL_MS: '0' }).problems.map((p) => p.split('=')[0])).toEqual([
      'WORKER_DELAY_MS',
      'HEARTBEAT_INTERVAL_MS',
    ]);
  });
});

describe('LOAD_BALANCER_REGISTER', () => {
  const load = (url: string) => loadWorkerConfig({ LOAD_BALANCER_REGISTER: url, REGISTRATION_SECRET: SECRET }).LOAD_BALANCER_REGISTER;

  it("gets the balancer's /register-worker appended when it is a base URL", () => {
    expect(load('http://balancer:8080')).toBe('http://balancer:8080/register-worker');
    expect(load('http://balancer:8080/')).toBe('http://balancer:8080/register-worker');
  });

  it('keeps a URL that ends in /register-worker, behind a path prefix too', () => {
    expect(load('http://balancer:8080/register-worker')).toBe('http://balancer:8080/register-worker');
    expect(load('https://gw.example/lb/register-worker')).toBe('https://gw.example/lb/register-worker');
  });

  it.each([
    'http://balancer:8080/register',
    'http://balancer:8080/register-worker/',
    'http://balancer:8080/register-worker?x=1',
    'http://balancer:8080/#register-worker',
  ])('refuses any other path: %s', (url) => {
    const error = errorOf({ LOAD_BALANCER_REGISTER: url, REGISTRATION_SECRET: SECRET });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^LOAD_BALANCER_REGISTER=.*\/register-worker/);
  });
});
