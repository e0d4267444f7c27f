import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

interface WsUpstream {
  url: string;
  name: string;
  server: Server;
  wss: WebSocketServer;
  /** Forwarded headers the last handshake carried. */
  lastForwardedFor?: string;
}

async function startWsUpstream(name: string): Promise<WsUpstream> {
  const server = createServer((_req, res) => res.end(`Server: ${name}, Request count: 0`));
  const wss = new WebSocketServer({ server });
  const upstream: WsUpstream = { url: '', name, server, wss };
  wss.on('connection', (socket, req) => {
    upstream.lastForwardedFor = req.headers['x-forwarded-for'] as string;
    socket.on('message', (data) => socket.send(`${name}:${(data as Buffer).toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return upstream;
}

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (d) => resolve((d as Buffer).toString())));
}

async function ask(ws: WebSocket, text: string): Promise<string> {
  const reply = nextMessage(ws);
  ws.send(text);
  return reply;
}

/** WebSocket upgrades go to a worker chosen by the strategy and are piped both ways until either side closes. */
describe('WebSocket proxying', () => {
  let balancer: RunningProcess;
  let upstreams: WsUpstream[];
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    upstreams = [await startWsUpstream('u1'), await startWsUpstream('u2'), await startWsUpstream('u3')];
    balancer = await startBalancer({ STRATEGY: 'consistent-hash', HASH_KEY: 'header:x-user' });
    for (const u of upstreams) expect((await signedPost(balancer.url, 'register-worker', { url: u.url, name: u.name })).status).toBe(201);
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await balancer?.stop();
    for (const u of upstreams ?? []) {
      u.wss.close();
      u.server.closeAllConnections();
      u.server.close();
    }
  });

  const wsUrl = () => balancer.url.replace('http:', 'ws:') + '/chat';

  it('relays messages both ways and sets X-Forwarded-For on the handshake', async () => {
    const ws = await open(wsUrl(), { 'x-user': 'alice' });
    sockets.push(ws);
    const reply = await ask(ws, 'hello');
    expect(reply).toMatch(/^u[123]:hello$/);
    const owner = upstreams.find((u) => reply.startsWith(`${u.name}:`))!;
    expect(owner.lastForwardedFor).toBe('127.0.0.1');
  });

  it('keeps one key on one worker across connections (consistent hash)', async () => {
    const owners = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const ws = await open(wsUrl(), { 'x-user': 'bob' });
      sockets.push(ws);
      owners.add((await ask(ws, 'ping')).split(':')[0]);
      ws.close();
    }
    expect(owners.size).toBe(1);
  });

  it('closes the upstream side when the client goes away', async () => {
    const ws = await open(wsUrl(), { 'x-user': 'carol' });
    const reply = await ask(ws, 'x');
    const target = upstreams.find((u) => reply.startsWith(`${u.name}:`))!;
    const before = target.wss.clients.size;
    expect(before).toBeGreaterThan(0);
    ws.terminate();
    await waitFor(() => target.wss.clients.size === before - 1 || undefined, 'the upstream socket to close', 5000);
  });

  it('closes the client side when the worker goes away', async () => {
    const ws = await open(wsUrl(), { 'x-user': 'dave' });
    sockets.push(ws);
    const reply = await ask(ws, 'x');
    const target = upstreams.find((u) => reply.startsWith(`${u.name}:`))!;
    const closed = new Promise<void>((r) => ws.once('close', () => r()));
    for (const client of target.wss.clients) client.terminate();
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  it('lets an open connection finish after its worker is deregistered (drain)', async () => {
    const ws = await open(wsUrl(), { 'x-user': 'erin' });
    sockets.push(ws);
    const first = await ask(ws, 'one');
    const target = upstreams.find((u) => first.startsWith(`${u.name}:`))!;
    expect((await signedPost(balancer.url, 'deregister-worker', { url: target.url })).status).toBe(200);
    expect(await ask(ws, 'two')).toBe(`${target.name}:two`);
    const fresh = await open(wsUrl(), { 'x-user': 'erin' });
    sockets.push(fresh);
    expect(await ask(fresh, 'three')).not.toMatch(new RegExp(`^${target.name}:`));
  });
});
