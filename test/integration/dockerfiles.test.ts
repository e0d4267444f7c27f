import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import * as ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { balancerSettings, loadBalancerConfig } from '../../balancer/config';
import { loadWorkerConfig, workerSettings } from '../../workers/config';
import { DIST, TEST_SECRET, freePort, startProcess, type RunningProcess } from '../helpers/processes';

/**
 * No Docker engine here, so the Dockerfiles and docker-compose.yml are checked against the repo they
 * build: what they COPY exists and reaches the build, what they run is what `npm run build` produced
 * (`npm test` builds dist/ first), the ports and variables agree with compose and with the entrypoints'
 * settings, and each image's CMD, run as a plain process on 127.0.0.1, passes its own HEALTHCHECK.
 */

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

// --- A Dockerfile, reduced to stages of instructions (enough for these files, not a full parser). ---

interface Instruction {
  keyword: string;
  args: string;
  /** The WORKDIR in effect, which relative COPY destinations and CMD paths resolve against. */
  workdir: string;
}
interface Stage {
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let workdir = '/';
  // Comment lines go first (Docker drops them even inside a continuation), then backslash continuations.
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n');
  for (const line of lines) {
    const m = /^\s*(\w+)\s+(.*\S)\s*$/.exec(line);
    if (!m) continue;
    const keyword = m[1].toUpperCase();
    if (keyword === 'FROM') {
      const [, as, name] = m[2].split(/\s+/).filter((t) => !t.startsWith('--'));
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      workdir = '/';
      continue;
    }
    if (keyword === 'WORKDIR') workdir = posix.resolve(workdir, m[2]);
    stages.at(-1)!.instructions.push({ keyword, args: m[2], workdir });
  }
  return stages;
}

const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const only = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  expect(found).toHaveLength(1);
  return found[0];
};

interface Copy {
  from?: string;
  sources: string[];
  dest: string;
  workdir: string;
}
function copies(stage: Stage): Copy[] {
  return all(stage, 'COPY').map(({ args, workdir }) => {
    const tokens = args.split(/\s+/);
    const from = tokens.find((t) => t.startsWith('--from='))?.slice('--from='.length);
    const paths = tokens.filter((t) => !t.startsWith('--'));
    return { from, sources: paths.slice(0, -1), dest: paths.at(-1)!, workdir };
  });
}

/** `ENV A=1 B=2` lines of a stage as one record. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const eq = pair.indexOf('=');
      expect(eq).toBeGreaterThan(0); // the legacy `ENV KEY value` form is not used here
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** The argv of an exec-form CMD (also after HEALTHCHECK's options); undefined for shell form, which would keep node from PID 1. */
function execForm(args: string): string[] | undefined {
  const json = args.replace(/^(--\S+\s+)*CMD\s+/, '');
  return json.startsWith('[') ? (JSON.parse(json) as string[]) : undefined;
}

/** The .dockerignore rules in order; the last one matching a path or one of its parents decides. */
function dockerIgnored(): (path: string) => boolean {
  const rules = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = l.replace(/^!/, '').replace(/^\/+|\/+$/g, '');
      const source = glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*/g, '\0')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replace(/\0/g, '.*');
      return { negate, re: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const parts = path.replace(/\/+$/, '').split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.negate;
    return ignored;
  };
}

/** Each build-context COPY source of a stage that exists, with where it lands in the image. */
function copiedInto(stage: Stage): { src: string; to: string; dir: boolean }[] {
  return copies(stage)
    .filter((c) => !c.from)
    .flatMap((copy) =>
      copy.sources
        .map((raw) => raw.replace(/\/+$/, ''))
        .filter((src) => existsSync(join(ROOT, src)))
        .map((src) => {
          const dest = posix.resolve(copy.workdir, copy.dest);
          // COPY dir/ dest puts the directory's contents into dest; files go into dest/ or become dest.
          const dir = statSync(join(ROOT, src)).isDirectory();
          const into = dir || copy.dest.endsWith('/') || copy.sources.length > 1;
          return { src, dir, to: into && !dir ? posix.join(dest, posix.basename(src)) : dest };
        }),
    );
}

/** Where a build stage's COPY puts repo file `file`, or undefined if no COPY brings it in. */
function imagePathOf(stage: Stage, file: string): string | undefined {
  for (const { src, to, dir } of copiedInto(stage)) {
    if (dir && file.startsWith(src + '/')) return posix.join(to, posix.relative(src, file));
    if (!dir && file === src) return to;
  }
  return undefined;
}

/** Repo-relative sources of every compiled module `distFile` loads through relative requires. */
function sourcesLoadedBy(distFile: string): string[] {
  const seen = new Set<string>();
  const queue = [distFile];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("(\.{1,2}\/[^"]*)"\)/g)) {
      const base = join(dirname(file), spec);
      const next = [`${base}.js`, join(base, 'index.js'), base].find((p) => existsSync(p) && statSync(p).isFile());
      if (!next) throw new Error(`${relative(ROOT, file)} requires ${spec}, which dist/ lacks`);
      queue.push(next);
    }
  }
  return [...seen].map((f) => relative(DIST, f).split('\\').join('/').replace(/\.js$/, '.ts'));
}

// --- docker-compose.yml ---

interface ComposeService {
  build?: { context?: string; dockerfile?: string };
  image?: string;
  profiles?: string[];
  depends_on?: string[];
  ports?: (string | { target: number; host_ip?: string })[];
  environment?: Record<string, string> | string[];
  networks?: string[] | Record<string, unknown>;
  restart?: string;
  stop_grace_period?: string;
  volumes?: string[];
}
const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  networks?: Record<string, unknown>;
  volumes?: Record<string, unknown>;
};

/** Values the test gives the variables compose interpolates; an unknown one fails the test. */
// ADMIN_TOKEN as when the host leaves it unset (`${ADMIN_TOKEN:-}` is then empty, which the balancer reads as unset).
const HOST_ENV: Record<string, string> = { REGISTRATION_SECRET: TEST_SECRET, ADMIN_TOKEN: '' };
function environmentOf(service: ComposeService): Record<string, string> {
  const raw = service.environment ?? {};
  const entries = Array.isArray(raw) ? raw.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]) : Object.entries(raw);
  return Object.fromEntries(
    entries.map(([key, value]) => [
      key,
      value.replace(/\$\{(\w+)[^}]*\}/g, (_, name: string) => {
        if (!(name in HOST_ENV)) throw new Error(`docker-compose.yml interpolates ${name}; give it a test value in HOST_ENV`);
        return HOST_ENV[name];
      }),
    ]),
  );
}
const containerPorts = (service: ComposeService) =>
  (service.ports ?? []).map((p) =>
    typeof p === 'string'
      ? Number(
          p
            .replace(/\/\w+$/, '')
            .split(':')
            .at(-1),
        )
      : p.target,
  );
/** The host address a published port binds ("127.0.0.1:8404:8404"), or undefined for every address ("8080:8080"). */
const hostIpOf = (mapping: string | { target: number; host_ip?: string }) =>
  typeof mapping === 'string' ? /^(\d+\.\d+\.\d+\.\d+):\d+:\d+/.exec(mapping)?.[1] : mapping.host_ip;
const networksOf = (service: ComposeService) => (Array.isArray(service.networks) ? service.networks : Object.keys(service.networks ?? {}));
function durationMs(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
  return ms;
}

// --- The two images ---

const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const tsconfigFile = /tsc -p (\S+)/.exec(pkg.scripts.build)?.[1] ?? 'tsconfig.json';
const tsconfig = ts.readConfigFile(join(ROOT, tsconfigFile), (path) => ts.sys.readFile(path)).config as { compilerOptions: { outDir: string } };
const outDir = tsconfig.compilerOptions.outDir.replace(/^\.\//, '');

const images = [
  {
    dockerfile: 'Dockerfile.balancer',
    npmScript: 'start:balancer',
    settings: balancerSettings,
    load: (env: NodeJS.ProcessEnv) => loadBalancerConfig(env),
    /** How long SIGTERM may take: the balancer forces its exit after 10 s (load-balancer-server.ts). */
    drainMs: () => 10_000,
    /** The gateway's port, then the admin listener's (balancer/admin). */
    listenPorts: (env: Record<string, string>) => [Number(env.PORT), Number(env.ADMIN_PORT ?? balancerSettings.ADMIN_PORT.default)],
    /** Hard rule of the test machine: loopback only, kernel-picked port, whatever the image says; the image's STATE_DIR is the container's, not this machine's. */
    testEnv: { ADMIN_HOST: '127.0.0.1', ADMIN_PORT: '0', STATE_DIR: 'off' } as Record<string, string>,
  },
  {
    dockerfile: 'Dockerfile.worker',
    npmScript: 'start:worker',
    settings: workerSettings,
    load: (env: NodeJS.ProcessEnv) => loadWorkerConfig(env),
    drainMs: (env: Record<string, string>) => Number(env.SHUTDOWN_TIMEOUT_MS ?? workerSettings.SHUTDOWN_TIMEOUT_MS.default),
    listenPorts: (env: Record<string, string>) => [Number(env.PORT)],
    testEnv: { WORKER_DELAY_MS: '0' } as Record<string, string>,
  },
];

describe.each(images)('$dockerfile', (image) => {
  const stages = parseDockerfile(read(image.dockerfile));
  const runtime = stages.at(-1)!;
  const distCopies = copies(runtime).filter((c) => c.from !== undefined);
  const build = stages.find((s) => s.name !== undefined && s.name === distCopies[0]?.from);
  const buildWorkdir = build && all(build, 'RUN').find((r) => /\bnpm run build\b/.test(r.args))?.workdir;
  const cmd = execForm(all(runtime, 'CMD').at(-1)?.args ?? '') ?? [];
  const imageEnv = envOf(runtime);
  const services = Object.entries(compose.services).filter(([, s]) => s.build?.dockerfile === image.dockerfile);
  let running: RunningProcess | undefined;

  afterAll(async () => {
    await running?.stop();
  });

  it('builds in a stage with dev dependencies that runs npm run build', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    const runs = all(build!, 'RUN').map((r) => r.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev|--production/.test(r))).toBe(true);
    expect(buildWorkdir).toBeDefined();
    // npm ci in the build stage needs the lockfile, and the build script its tsconfig.
    for (const file of ['package.json', 'package-lock.json', tsconfigFile]) expect(imagePathOf(build!, file)).toBeDefined();
  });

  it('copies only paths that exist in the repo and that .dockerignore keeps', () => {
    const ignored = dockerIgnored();
    for (const stage of stages) {
      for (const copy of copies(stage).filter((c) => !c.from)) {
        for (const src of copy.sources) {
          expect({ src, exists: existsSync(join(ROOT, src)), ignored: ignored(src) }).toEqual({ src, exists: true, ignored: false });
        }
      }
    }
    for (const path of ['node_modules', 'dist', '.git', '.env', 'benchmark-results', 'x.cpuprofile'])
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: true });
  });

  it('copies every source the entrypoint loads to where tsc expects it', () => {
    const ignored = dockerIgnored();
    const sources = sourcesLoadedBy(join(ROOT, cmd[1]));
    expect(sources.length).toBeGreaterThan(1);
    for (const file of sources) {
      const landing = { file, exists: existsSync(join(ROOT, file)), ignored: ignored(file), at: imagePathOf(build!, file) };
      expect(landing).toEqual({ file, exists: true, ignored: false, at: posix.join(buildWorkdir!, file) });
    }
  });

  it('compiles its entrypoint from the files its build stage copies, and nothing else', async () => {
    // The build stage replayed in a scratch directory: its COPYs, node_modules standing in for npm ci,
    // then the build script's tsc. Catches what the require graph cannot see, such as a type-only import.
    const scratch = mkdtempSync(join(tmpdir(), 'docker-build-'));
    try {
      for (const { src, to } of copiedInto(build!)) {
        expect(to.startsWith(buildWorkdir! + '/')).toBe(true);
        cpSync(join(ROOT, src), join(scratch, posix.relative(buildWorkdir!, to)), { recursive: true });
      }
      symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
      const tsc = [require.resolve('typescript/bin/tsc'), '-p', tsconfigFile];
      const result = await run(tsc, { cwd: scratch, timeoutMs: 60_000 });
      expect({ code: result.code, output: result.output }).toEqual({ code: 0, output: '' });
      expect(existsSync(join(scratch, cmd[1]))).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 90_000);

  it('runs production dependencies and the compiled output only, as a non-root user', () => {
    expect(all(runtime, 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r.args))).toBe(true);
    expect(distCopies).toHaveLength(1);
    const [dist] = distCopies;
    expect(dist.sources).toEqual([posix.join(buildWorkdir!, outDir)]);
    for (const copy of copies(runtime).filter((c) => !c.from)) expect(copy.sources.every((s) => /^package(-lock)?\.json$/.test(s))).toBe(true);
    const user = only(runtime, 'USER').args.split(':')[0];
    expect(['root', '0']).not.toContain(user);
    expect(imageEnv.NODE_ENV).toBe('production');
  });

  it('runs, in exec form, the file npm run build produces, as the npm start script does', () => {
    expect(execForm(only(runtime, 'CMD').args)).toBeDefined();
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).toBe(pkg.scripts[image.npmScript]);
    expect(cmd[1].startsWith(`${outDir}/`)).toBe(true);
    expect(existsSync(join(ROOT, cmd[1]))).toBe(true);
    // The CMD's file lies inside the directory the runtime stage copied dist/ into.
    const [dist] = distCopies;
    const copiedTo = posix.resolve(dist.workdir, dist.dest);
    expect(posix.resolve(only(runtime, 'CMD').workdir, cmd[1]).startsWith(copiedTo + '/')).toBe(true);
  });

  it('exposes the ports it listens on, the ones compose maps', () => {
    const exposed = only(runtime, 'EXPOSE')
      .args.split(/\s+/)
      .map((p) => Number(p.replace(/\/\w+$/, '')));
    const listening = image.listenPorts(imageEnv);
    expect(exposed).toEqual(listening);
    expect(imageEnv.HOST).toBe('0.0.0.0');
    expect(services.length).toBeGreaterThan(0);
    for (const [name, service] of services) {
      const env = environmentOf(service);
      for (const port of containerPorts(service)) expect({ name, port, listened: listening.includes(port) }).toEqual({ name, port, listened: true });
      expect({ name, ports: image.listenPorts({ ...imageEnv, ...env }) }).toEqual({ name, ports: listening });
    }
  });

  it('sets only variables the entrypoint knows, with values it accepts', () => {
    const known = Object.keys(image.settings);
    // NODE_ENV is read by Node and libraries, not by the entrypoint's settings.
    for (const key of Object.keys(imageEnv)) expect([...known, 'NODE_ENV']).toContain(key);
    for (const [name, service] of services) {
      const env = environmentOf(service);
      for (const key of Object.keys(env)) expect({ name, key, known: known.includes(key) }).toEqual({ name, key, known: true });
      expect(() => image.load({ ...imageEnv, ...env })).not.toThrow();
    }
  });

  it('serves when its CMD runs, and its HEALTHCHECK probe passes against it (and fails without it)', async () => {
    const probe = execForm(only(runtime, 'HEALTHCHECK').args) ?? [];
    expect(probe[0]).toBe('node');
    running = await startProcess(relative(DIST, join(ROOT, cmd[1])), {
      ...imageEnv,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      REGISTRATION_SECRET: TEST_SECRET,
      ...image.testEnv,
    });
    // The probe reads PORT from the container's environment, as it does under Docker.
    expect(await probeExitCode(probe.slice(1), running.port)).toBe(0);
    expect(await probeExitCode(probe.slice(1), await freePort())).not.toBe(0);
  });

  it('gives compose services time to drain on stop, and restarts them', () => {
    for (const [name, service] of services) {
      const grace = durationMs(service.stop_grace_period ?? '10s'); // compose's default
      expect({ name, graceOutlastsDrain: grace > image.drainMs(environmentOf(service)) }).toEqual({ name, graceOutlastsDrain: true });
      expect({ name, restart: service.restart }).toEqual({ name, restart: 'unless-stopped' });
    }
  });
});

describe('docker-compose.yml', () => {
  // What `docker compose up` runs: the services of no profile.
  const services = Object.fromEntries(Object.entries(compose.services).filter(([, s]) => s.profiles === undefined));

  it("publishes the balancer's admin port on the host's loopback only, its gateway port on every address", () => {
    const runtime = parseDockerfile(read('Dockerfile.balancer')).at(-1)!;
    const imageEnv = envOf(runtime);
    // Inside the container the admin listener binds every address, or the published port would reach nothing.
    expect(imageEnv.ADMIN_HOST).toBe('0.0.0.0');
    const adminPort = Number(imageEnv.ADMIN_PORT ?? balancerSettings.ADMIN_PORT.default);
    const published = (services.balancer.ports ?? []).map((mapping) => ({ port: containerPorts({ ports: [mapping] })[0], hostIp: hostIpOf(mapping) }));
    expect(published).toEqual([
      { port: Number(imageEnv.PORT), hostIp: undefined },
      { port: adminPort, hostIp: '127.0.0.1' },
    ]);
  });

  it("keeps the balancer's STATE_DIR on a named volume, a directory of the image that its user owns", () => {
    const runtime = parseDockerfile(read('Dockerfile.balancer')).at(-1)!;
    const stateDir = envOf(runtime).STATE_DIR;
    expect(stateDir).toMatch(/^\//);
    expect(all(runtime, 'VOLUME').map((v) => v.args)).toEqual([stateDir]);
    // Created and handed to the runtime user before USER, so a fresh volume starts with that owner.
    const user = only(runtime, 'USER').args.split(':')[0];
    const beforeUser = runtime.instructions.slice(
      0,
      runtime.instructions.findIndex((i) => i.keyword === 'USER'),
    );
    const run = beforeUser.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(run.some((r) => r.includes(`mkdir -p ${stateDir}`) && r.includes(`chown ${user}:${user} ${stateDir}`))).toBe(true);
    const [volume] = (services.balancer.volumes ?? []).filter((v) => v.endsWith(`:${stateDir}`));
    expect(volume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(volume.split(':')[0]);
  });

  it('runs a balancer that publishes its port and three workers, all on one network', () => {
    expect(Object.keys(services).sort()).toEqual(['balancer', 'worker1', 'worker2', 'worker3']);
    expect(services.balancer.ports).toBeDefined();
    const networks = Object.values(services).map(networksOf);
    expect(networks[0]).toHaveLength(1);
    for (const n of networks) expect(n).toEqual(networks[0]);
    expect(Object.keys(compose.networks ?? {})).toContain(networks[0][0]);
  });

  it('has each worker register, under its own name, at the balancer service on its container port', () => {
    const balancerPort = containerPorts(services.balancer)[0];
    const workers = Object.entries(services).filter(([name]) => name !== 'balancer');
    const names = workers.map(([, s]) => environmentOf(s).NAME);
    expect(new Set(names).size).toBe(workers.length);
    for (const [, worker] of workers) {
      const env = environmentOf(worker);
      const url = new URL(env.LOAD_BALANCER_REGISTER);
      expect([url.hostname, Number(url.port), url.pathname]).toEqual(['balancer', balancerPort, '/register-worker']);
      expect(env.REGISTRATION_SECRET).toBe(environmentOf(services.balancer).REGISTRATION_SECRET);
      // Left unset so the worker advertises its container IP (HOST=0.0.0.0, first non-internal IPv4).
      expect(env.WORKER_URL).toBeUndefined();
    }
  });
});

describe('docker-compose.yml, profile replicas', () => {
  const replicas = Object.entries(compose.services).filter(([, s]) => s.profiles !== undefined);
  const byName = Object.fromEntries(replicas);
  const balancers = replicas.filter(([, s]) => s.build?.dockerfile === 'Dockerfile.balancer');
  const workers = replicas.filter(([, s]) => s.build?.dockerfile === 'Dockerfile.worker');

  it('holds Redis, two balancer replicas and workers, each in the profile only, on the one network', () => {
    for (const [name, service] of replicas) expect({ name, profiles: service.profiles }).toEqual({ name, profiles: ['replicas'] });
    expect(byName.redis.image).toMatch(/^redis:/);
    expect(balancers.map(([name]) => name).sort()).toEqual(['balancer-a', 'balancer-b']);
    expect(workers.length).toBeGreaterThan(0);
    expect(replicas).toHaveLength(1 + balancers.length + workers.length);
    for (const [name, service] of replicas) expect({ name, networks: networksOf(service) }).toEqual({ name, networks: networksOf(compose.services.balancer) });
  });

  it('keeps Redis unpublished, and gives the replicas host ports no other service takes, admin ones on loopback', () => {
    expect(byName.redis.ports).toBeUndefined();
    const runtime = parseDockerfile(read('Dockerfile.balancer')).at(-1)!;
    const adminPort = Number(envOf(runtime).ADMIN_PORT ?? balancerSettings.ADMIN_PORT.default);
    for (const [name, service] of balancers) {
      const admin = (service.ports ?? []).filter((m) => containerPorts({ ports: [m] })[0] === adminPort);
      expect({ name, adminHostIps: admin.map(hostIpOf) }).toEqual({ name, adminHostIps: ['127.0.0.1'] });
    }
    const hostPorts = Object.values(compose.services).flatMap((s) =>
      (s.ports ?? []).map((m) => (typeof m === 'string' ? m.split(':').at(-2) : String(m.target))),
    );
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('has both replicas follow the redis service and share one REGISTRATION_SECRET, each with its own STATE_DIR volume', () => {
    const volumes = new Set<string>();
    for (const [name, service] of balancers) {
      const env = environmentOf(service);
      const redis = new URL(env.REDIS_URL);
      expect({ name, protocol: redis.protocol, host: redis.hostname, port: redis.port }).toEqual({ name, protocol: 'redis:', host: 'redis', port: '6379' });
      expect(env.REGISTRATION_SECRET).toBe(environmentOf(compose.services.balancer).REGISTRATION_SECRET);
      expect(service.depends_on).toContain('redis');
      expect(() => loadBalancerConfig(env)).not.toThrow();
      for (const v of service.volumes ?? []) volumes.add(v.split(':')[0]);
    }
    expect(volumes.size).toBe(balancers.length);
    for (const v of volumes) expect(Object.keys(compose.volumes ?? {})).toContain(v);
  });

  it('has its workers register with one replica only, the other serving them through Redis', () => {
    const balancerPort = containerPorts(byName['balancer-a'])[0];
    for (const [name, worker] of workers) {
      const env = environmentOf(worker);
      const url = new URL(env.LOAD_BALANCER_REGISTER);
      expect({ name, target: [url.hostname, Number(url.port), url.pathname] }).toEqual({ name, target: ['balancer-a', balancerPort, '/register-worker'] });
      expect(env.REGISTRATION_SECRET).toBe(environmentOf(byName['balancer-a']).REGISTRATION_SECRET);
      expect(worker.depends_on).toEqual(['balancer-a']);
    }
    expect(new Set(workers.map(([, w]) => environmentOf(w).NAME)).size).toBe(workers.length);
  });
});

/** Runs `node ...args` to its exit, killed after timeoutMs; resolves with its exit code and output. */
function run(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: { PATH: process.env.PATH ?? '', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The HEALTHCHECK's exit code, with PORT set as in the container's environment. */
async function probeExitCode(probeArgs: string[], port: number): Promise<number | null> {
  return (await run(probeArgs, { env: { PORT: String(port) } })).code;
}
