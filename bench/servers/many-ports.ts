import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One process, one request handler, COUNT listening sockets on 127.0.0.1 (each on a port the kernel
 * picks): enough distinct origins to register a thousand workers without a thousand processes.
 * Prints `{"ports":[...]}` on one stdout line once every socket listens. Answers like a 0 ms worker.
 */
const count = Number(process.env.COUNT ?? 1000);
let served = 0;

function handler(req: IncomingMessage, res: ServerResponse): void {
  served++;
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`Server: port-${req.socket.localPort}, Request count: ${served}`);
}

async function main(): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    // An http.Server listens on one address, so each port gets its own server around the same handler.
    const server = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ports.push((server.address() as AddressInfo).port);
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`many-ports failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
