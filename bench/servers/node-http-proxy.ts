import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';
import { HOST, peerEnv, roundRobin } from './env';

/**
 * Peer "http-proxy": node-http-proxy with a keep-alive agent (its default opens a connection per
 * request), choosing the next worker in turn. Errors answer 502 instead of crashing the process.
 */
const { port, upstreams } = peerEnv();
const next = roundRobin(upstreams);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
const proxy = httpProxy.createProxyServer({ agent, xfwd: true });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) res.writeHead(502);
  res.end();
});
createServer((req, res) => proxy.web(req, res, { target: next() })).listen(port, HOST);
