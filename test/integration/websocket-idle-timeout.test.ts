import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { RunningProcess } from '../helpers/processes';
import { startBalancerFronting } from '../helpers/registration';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * An upgraded connection silent both ways for WEBSOCKET_IDLE_TIMEOUT_MS is closed (nginx applies
 * proxy_read_timeout to WebSockets the same way): an idle tunnel must not hold two descriptors forever.
 * The WebSocket handshake is node:http's in both FAST_PATH modes, so this runs once.
 */
describe('WEBSOCKET_IDLE_TIMEOUT_MS', () => {
  let balancer: RunningProcess;
  let server: Server;
  let wss: WebSocketServer;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('plain'));
    wss = new WebSocketServer({ server });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${(data as Buffer).toString()}`)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    balancer = await startBalancerFronting(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'ws', { WEBSOCKET_IDLE_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await balancer?.stop();
    wss?.close();
    server?.closeAllConnections();
    server?.close();
  });

  const wsUrl = () => balancer.url.replace('http:', 'ws:') + '/chat';

  it('closes a WebSocket silent both ways, and the worker side with it', async () => {
    const ws = await open(wsUrl());
    sockets.push(ws);
    await new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await new Promise<void>((resolve) => {
      const check = () => (wss.clients.size === 0 ? resolve() : setTimeout(check, 50));
      check();
    });
  });

  it('keeps a WebSocket that keeps talking open past the limit', async () => {
    const ws = await open(wsUrl());
    sockets.push(ws);
    let replies = 0;
    ws.on('message', () => replies++);
    // A message every 100 ms for three times the limit.
    for (let i = 0; i < 30 && ws.readyState === WebSocket.OPEN; i++) {
      ws.send(`m${i}`);
      await sleep(100);
    }
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(replies).toBeGreaterThan(0);
  });
});
