import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnTracked, waitForHttp, which, type Tracked } from '../processes';
import type { PeerDef } from './types';

/**
 * nginx as a plain foreground process: no daemon, no master, so the one process that serves is the
 * one we spawned (and whose RSS we read). Upstream keep-alive as nginx documents it for HTTP/1.1
 * upstreams; keepalive_requests raised on both sides so no peer closes connections the others keep.
 */
export function nginxConfig(dir: string, port: number, workers: readonly string[], keepalive = 64): string {
  const servers = workers.map((u) => `    server ${new URL(u).host};`).join('\n');
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  keepalive_requests 1000000;
  upstream workers {
${servers}
    keepalive ${keepalive};
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://workers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** Starts nginx in front of `workers` from its own directory under `tmpDir`; stopped with the other tracked processes. */
export async function startNginx(name: string, tmpDir: string, workers: readonly string[], keepalive = 64): Promise<{ url: string; proc: Tracked }> {
  const dir = join(tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(dir, port, workers, keepalive));
  const proc = spawnTracked(name, which('nginx')!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, proc);
  return { url, proc };
}

export const nginxPeer: PeerDef = {
  name: 'nginx',
  description: 'nginx, 1 process (master_process off), upstream keepalive 64, proxy_http_version 1.1, Connection ""',
  binary: 'nginx',
  async start({ workers, tmpDir }) {
    const { url, proc } = await startNginx(
      'nginx',
      tmpDir,
      workers.map((w) => w.url),
    );
    return { url, pid: proc.pid };
  },
};
