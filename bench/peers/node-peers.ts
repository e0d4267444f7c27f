import { join } from 'node:path';
import { registerUrls, startOurBalancer, waitForRegistered } from '../fleet';
import { freePort, spawnNode, waitForHttp } from '../processes';
import type { PeerDef } from './types';

/** A peer server from bench/servers, given PORT and the workers as UPSTREAMS. */
function nodePeer(name: string, script: string, description: string): PeerDef {
  return {
    name,
    description,
    async start({ workers }) {
      const port = await freePort();
      const proc = spawnNode(name, script, { PORT: String(port), UPSTREAMS: workers.map((w) => w.url).join(',') });
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/`, proc);
      return { url, pid: proc.pid };
    },
  };
}

export const oursPeer: PeerDef = {
  name: 'ours',
  description: 'this balancer: round-robin, NODE_ENV=production, LOG_LEVEL=warn, own keep-alive pool per worker',
  start({ balancer }) {
    return Promise.resolve({ url: balancer.url, pid: balancer.proc.pid });
  },
};

/**
 * An extra row of the peers suite: "ours" again with ACCESS_LOG=json, its stdout appended to a file
 * (as nginx's access_log writes one), so the report can state what the access log costs. A second
 * balancer, given the same two workers by signed registration; REGISTRATION_TTL_MS=0 since the
 * workers heartbeat only to the first.
 */
export const oursAccessLogPeer: PeerDef = {
  name: 'ours+access-log',
  description: 'this balancer as "ours", with ACCESS_LOG=json, stdout appended to a file in the temp dir',
  async start({ workers, tmpDir }) {
    const balancer = await startOurBalancer('ours+access-log', { ACCESS_LOG: 'json', REGISTRATION_TTL_MS: '0' }, join(tmpDir, 'access.log'));
    const urls = workers.map((w) => w.url);
    await registerUrls(balancer, urls);
    await waitForRegistered(balancer, urls);
    return { url: balancer.url, pid: balancer.proc.pid };
  },
};

export const directPeer: PeerDef = {
  name: 'direct',
  description: "no proxy: the load generator calls worker 1 alone (one worker's ceiling; a proxy over both workers can pass it)",
  start({ workers }) {
    return Promise.resolve({ url: workers[0].url, pid: workers[0].proc.pid });
  },
};

export const fastifyPeer = nodePeer(
  'fastify',
  'bench/servers/fastify-proxy.js',
  '@fastify/http-proxy (reply-from, undici Agent), getUpstream round robin over both workers',
);

export const httpProxyPeer = nodePeer('http-proxy', 'bench/servers/node-http-proxy.js', 'node-http-proxy with a keep-alive http.Agent, round robin');

export const expressAxiosPeer = nodePeer(
  'express-axios',
  'bench/servers/express-axios.js',
  'seed-style gateway: Express + axios, each answer buffered, keep-alive agent, round robin',
);
