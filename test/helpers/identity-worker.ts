import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the worker saw of one request or handshake. */
export interface SeenRequest {
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

/**
 * A worker on 127.0.0.1 that records every request's headers and answers 200 with a body of 2 bytes.
 * GET /own-id answers with an X-Request-Id of its own ("set-by-worker"); GET /echo-trace sends back the
 * traceparent and tracestate it received, value for value. An Upgrade: websocket handshake is
 * recorded and answered 101, then the socket is closed.
 */
export async function startIdentityWorker(): Promise<{ url: string; seen: SeenRequest[]; server: Server; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
    req.resume();
    req.on('end', () => {
      const headers: string[] = ['Content-Type', 'text/plain', 'Content-Length', '2'];
      if (req.url === '/own-id') headers.push('X-Request-Id', 'set-by-worker');
      if (req.url === '/echo-trace') {
        for (let i = 0; i < req.rawHeaders.length; i += 2) {
          const name = req.rawHeaders[i].toLowerCase();
          if (name === 'traceparent' || name === 'tracestate') headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
        }
      }
      res.writeHead(200, headers);
      res.end('ok');
    });
  });
  server.on('upgrade', (req, socket) => {
    seen.push({ url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
    socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Request-Id: set-by-worker\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
