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
