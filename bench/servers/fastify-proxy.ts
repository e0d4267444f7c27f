import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { HOST, peerEnv, roundRobin } from './env';

/**
 * Peer "fastify": @fastify/http-proxy with no fixed upstream and `replyOptions.getUpstream` choosing
 * the next worker in turn. Underneath, @fastify/reply-from sends through an undici Agent, which keeps
 * one keep-alive pool per worker origin. (A fixed `upstream` would send everything to one worker, and
 * reply-from's array `base` uses undici's BalancedPool, a different algorithm; this keeps round robin.)
 */
async function main(): Promise<void> {
  const { port, upstreams } = peerEnv();
  const next = roundRobin(upstreams);
  const app = Fastify({ logger: false });
  await app.register(proxy, { upstream: '', replyOptions: { getUpstream: () => next() } });
  await app.listen({ port, host: HOST });
}

main().catch((err: unknown) => {
  process.stderr.write(`fastify peer failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
