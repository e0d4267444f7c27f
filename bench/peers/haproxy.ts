import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnTracked, waitForHttp, which } from '../processes';
import type { PeerDef } from './types';

/** HAProxy in the foreground (-db), one thread, round robin, idle server connections shared (http-reuse always). */
export function haproxyConfig(port: number, workers: readonly string[]): string {
  const servers = workers.map((u, i) => `  server w${i + 1} ${new URL(u).host}`).join('\n');
  return `global
  nbthread 1
  # HAProxy sizes its file-descriptor needs from maxconn; 4096 fits a 20,000 fd limit and the 64-1,000 connections used here.
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  http-reuse always

frontend gateway
  bind 127.0.0.1:${port}
  default_backend workers

backend workers
  balance roundrobin
${servers}
`;
}

export const haproxyPeer: PeerDef = {
  name: 'haproxy',
  description: 'HAProxy, nbthread 1, balance roundrobin, http-reuse always',
  binary: 'haproxy',
  async start({ workers, tmpDir }) {
    const port = await freePort();
    const config = join(tmpDir, 'haproxy.cfg');
    writeFileSync(
      config,
      haproxyConfig(
        port,
        workers.map((w) => w.url),
      ),
    );
    const proc = spawnTracked('haproxy', which('haproxy')!, ['-db', '-f', config]);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/`, proc);
    return { url, pid: proc.pid };
  },
};
