import { availableParallelism } from 'node:os';
import { balancerSettings, loadBalancerConfig, processCount } from '../../../balancer/config';
import { TrustPolicy } from '../../../balancer/proxy/forwarding';
import { strategyNames } from '../../../strategies';
import { ConfigError } from '../../../utils/env';

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadBalancerConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`loadBalancerConfig accepted ${JSON.stringify(env)}`);
}

describe('loadBalancerConfig', () => {
  it('has the documented defaults', () => {
    const config = loadBalancerConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '0.0.0.0',
      STRATEGY: 'round-robin',
      HASH_KEY: 'ip',
      CONNECT_TIMEOUT_MS: 5000,
      RESPONSE_TIMEOUT_MS: 60000,
      IDLE_TIMEOUT_MS: 60000,
      WORKER_MAX_CONNECTIONS: 0,
      TRUST_PROXY: '',
      LOG_LEVEL: 'info',
    });
    expect(config.REGISTRATION_SECRET).toBeUndefined();
  });

  it('keeps state in ./state by default, takes any directory or off', () => {
    expect(loadBalancerConfig({}).STATE_DIR).toBe('./state');
    expect(loadBalancerConfig({ STATE_DIR: '/var/lib/load-balancer' }).STATE_DIR).toBe('/var/lib/load-balancer');
    expect(loadBalancerConfig({ STATE_DIR: 'off' }).STATE_DIR).toBe('off');
  });

  it('writes no access log by default, takes off or json, and names ACCESS_LOG when given anything else', () => {
    expect(loadBalancerConfig({}).ACCESS_LOG).toBe('off');
    expect(loadBalancerConfig({ ACCESS_LOG: 'json' }).ACCESS_LOG).toBe('json');
    for (const value of ['on', 'JSON', 'text'])
      expect(problemsOf({ ACCESS_LOG: value })).toEqual([expect.stringMatching(/^ACCESS_LOG=.*: expected off or json/)]);
  });

  it('runs one process by default, takes a positive integer or auto (the cores Node reports), and names PROCESSES otherwise', () => {
    expect(loadBalancerConfig({}).PROCESSES).toBe(1);
    expect(loadBalancerConfig({ PROCESSES: '4' }).PROCESSES).toBe(4);
    expect(processCount(loadBalancerConfig({ PROCESSES: 'auto' }).PROCESSES)).toBe(availableParallelism());
    for (const bad of ['0', '-1', '1.5', 'all']) expect(problemsOf({ PROCESSES: bad })[0]).toMatch(/^PROCESSES=/);
  });

  it('upgrades only to websocket by default, and takes a list of protocol names or none', () => {
    expect(loadBalancerConfig({}).UPGRADE_PROTOCOLS).toBe('websocket');
    for (const spec of ['websocket,h2c', ' WebSocket , foo/1.0 ', 'none']) expect(loadBalancerConfig({ UPGRADE_PROTOCOLS: spec }).UPGRADE_PROTOCOLS).toBe(spec);
    for (const spec of ['websocket,', 'web socket', 'a/b/c', '/1'])
      expect(problemsOf({ UPGRADE_PROTOCOLS: spec })).toEqual([
        expect.stringMatching(/^UPGRADE_PROTOCOLS=.*: expected none, or a comma-separated list of protocol names/),
      ]);
  });

  it('serves the admin listener on 127.0.0.1:8404 by default, on a free port at 0, and not at all at off', () => {
    expect(loadBalancerConfig({})).toMatchObject({ ADMIN_PORT: 8404, ADMIN_HOST: '127.0.0.1' });
    expect(loadBalancerConfig({}).ADMIN_TOKEN).toBeUndefined();
    expect(loadBalancerConfig({ ADMIN_PORT: '0' }).ADMIN_PORT).toBe(0);
    expect(loadBalancerConfig({ ADMIN_PORT: 'off' }).ADMIN_PORT).toBe('off');
    for (const bad of ['65536', '-1', 'no', '8404x'])
      expect(problemsOf({ ADMIN_PORT: bad })).toEqual([`ADMIN_PORT="${bad}": expected an integer 0-65535, or off`]);
  });

  it('refuses a short ADMIN_TOKEN, or one with a space, without printing it', () => {
    expect(problemsOf({ ADMIN_TOKEN: 'short-secret' })).toEqual(['ADMIN_TOKEN=(hidden, 12 characters): expected at least 16 characters, none of them a space']);
    // A token with a space or tab could never be sent as one Bearer credential (RFC 6750 section 2.1): refused at start, not at the first use.
    expect(problemsOf({ ADMIN_TOKEN: 'two words of admin token' })).toEqual([
      'ADMIN_TOKEN=(hidden, 24 characters): expected at least 16 characters, none of them a space',
    ]);
    expect(loadBalancerConfig({ ADMIN_TOKEN: 'a-token_of.20+chars/=' }).ADMIN_TOKEN).toBe('a-token_of.20+chars/=');
  });

  it('does not read process.env when given an environment', () => {
    expect(loadBalancerConfig({ PORT: '0', HOST: '127.0.0.1' })).toMatchObject({ PORT: 0, HOST: '127.0.0.1' });
  });

  it('accepts every registered strategy name', () => {
    expect(strategyNames).toContain('round-robin');
    for (const name of strategyNames) expect(loadBalancerConfig({ STRATEGY: name }).STRATEGY).toBe(name);
  });

  it('refuses an unknown STRATEGY with a message listing the accepted names', () => {
    const problems = problemsOf({ STRATEGY: 'fastest' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^STRATEGY="fastest": expected one of /);
    for (const name of strategyNames) expect(problems[0]).toContain(name);
  });

  it('names a bad PORT in the error', () => {
    expect(problemsOf({ PORT: '65536' })).toEqual(['PORT="65536": expected an integer 0-65535']);
    expect(problemsOf({ PORT: 'http' })).toEqual(['PORT="http": expected an integer 0-65535']);
  });

  it('refuses a REGISTRATION_SECRET shorter than 16 characters', () => {
    expect(problemsOf({ REGISTRATION_SECRET: 'a'.repeat(15) })).toEqual([
      'REGISTRATION_SECRET=(hidden, 15 characters): expected a string of at least 16 characters',
    ]);
    expect(loadBalancerConfig({ REGISTRATION_SECRET: 'a'.repeat(16) }).REGISTRATION_SECRET).toBe('a'.repeat(16));
  });

  it('reports several bad variables together', () => {
    const problems = problemsOf({ PORT: '-5', STRATEGY: 'nope', LOG_LEVEL: 'loud', CONNECT_TIMEOUT_MS: '0' });
    expect(problems.map((p) => p.split('=')[0]).sort()).toEqual(['CONNECT_TIMEOUT_MS', 'LOG_LEVEL', 'PORT', 'STRATEGY']);
  });

  it('accepts HASH_KEY forms ip, header:<name> and cookie:<name> only', () => {
    expect(loadBalancerConfig({ HASH_KEY: 'header:X-User-Id' }).HASH_KEY).toBe('header:X-User-Id');
    expect(loadBalancerConfig({ HASH_KEY: 'cookie:session' }).HASH_KEY).toBe('cookie:session');
    expect(problemsOf({ HASH_KEY: 'url' })[0]).toMatch(/^HASH_KEY="url": expected/);
    expect(problemsOf({ HASH_KEY: 'header:' })[0]).toMatch(/^HASH_KEY="header:": expected/);
  });

  it('accepts a TRUST_PROXY list of addresses and CIDRs', () => {
    expect(loadBalancerConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8' }).TRUST_PROXY).toBe('10.0.0.0/8, 127.0.0.1,::1,fd00::/8');
  });

  it('refuses a TRUST_PROXY that is not addresses or CIDRs', () => {
    for (const bad of ['everyone', '10.0.0.0/8;127.0.0.1', '10.0.0.0/8/8', 'localhost']) {
      const problems = problemsOf({ TRUST_PROXY: bad });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`TRUST_PROXY=${JSON.stringify(bad)}: expected a comma-separated list of IPs or CIDRs`);
    }
  });

  it('refuses a TRUST_PROXY that looks like addresses but is not: the balancer would crash building its TrustPolicy', () => {
    for (const bad of ['10.0.0.0/33', '300.1.1.1', 'cafe', '::1/129']) {
      // Whatever the config accepts must be buildable; these are not.
      expect(() => new TrustPolicy(bad)).toThrow();
      const problems = problemsOf({ TRUST_PROXY: bad });
      expect(problems[0]).toContain('TRUST_PROXY=');
    }
  });

  it('every accepted TRUST_PROXY builds a TrustPolicy', () => {
    for (const ok of ['', '10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8', '10.0.0.0/8,192.168.0.0/16']) {
      const { TRUST_PROXY } = loadBalancerConfig({ TRUST_PROXY: ok });
      expect(() => new TrustPolicy(TRUST_PROXY)).not.toThrow();
    }
  });

  it('describes every setting with a description and what it accepts', () => {
    for (const [name, setting] of Object.entries(balancerSettings)) {
      expect(`${name}: ${setting.description.length > 0}`).toBe(`${name}: true`);
      expect(`${name}: ${setting.accepts.length > 0}`).toBe(`${name}: true`);
    }
  });
});
