import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { grantedUpgrade, isValidUpgradeSpec, parseUpgradeProtocols, plainRequestHead, switchAllowed } from '../../../../balancer/proxy/upgrade-protocols';

const WEBSOCKET = parseUpgradeProtocols('websocket');

describe('parseUpgradeProtocols', () => {
  it('reads a list of names, any case and spacing, and none as the empty set', () => {
    expect([...parseUpgradeProtocols(' WebSocket , h2c,foo/1.0')]).toEqual(['websocket', 'h2c', 'foo/1.0']);
    expect(parseUpgradeProtocols('none').size).toBe(0);
  });

  it.each(['', 'websocket,', 'web socket', 'a/b/c', '/1', 'x/', 'ws;v=1'])('refuses %j', (spec) => {
    expect(isValidUpgradeSpec(spec)).toBe(false);
    expect(() => parseUpgradeProtocols(spec)).toThrow();
  });
});

describe('grantedUpgrade', () => {
  it.each([
    [['Upgrade', 'websocket'], 'websocket'],
    [['upgrade', 'WebSocket'], 'WebSocket'],
    [['Upgrade', 'h2c'], ''],
    [['Upgrade', 'h2c, websocket'], 'websocket'],
    [['Upgrade', 'h2c', 'Upgrade', 'websocket/13'], 'websocket/13'],
    [['Upgrade', ' , '], ''],
    [['X-Other', 'websocket'], ''],
  ])('of %j with websocket allowed is %j', (raw, granted) => {
    expect(grantedUpgrade(raw, WEBSOCKET)).toBe(granted);
  });

  it('grants nothing when UPGRADE_PROTOCOLS is none', () => {
    expect(grantedUpgrade(['Upgrade', 'websocket'], parseUpgradeProtocols('none'))).toBe('');
  });

  it('grants a versioned protocol only when listed by name or with that version', () => {
    const listed = parseUpgradeProtocols('foo/2');
    expect(grantedUpgrade(['Upgrade', 'foo/2, foo/3, foo'], listed)).toBe('foo/2');
  });
});

describe('switchAllowed', () => {
  it.each([
    [['Upgrade', 'websocket'], 'websocket', true],
    [['upgrade', 'WEBSOCKET'], 'websocket', true],
    [['Upgrade', 'h2c'], 'websocket', false],
    [['Upgrade', 'websocket, h2c'], 'websocket', false],
    [['Connection', 'upgrade'], 'websocket', false],
  ])('of a 101 with %j to a request upgraded to %j is %j', (raw, granted, allowed) => {
    expect(switchAllowed(raw, granted)).toBe(allowed);
  });
});

describe('plainRequestHead', () => {
  it('drops Upgrade and the upgrade token of Connection, and keeps everything else in order and case', () => {
    const head = plainRequestHead({
      method: 'POST',
      url: '/a?b=1',
      httpVersion: '1.1',
      rawHeaders: [
        'Host',
        'x',
        'Connection',
        'Upgrade, HTTP2-Settings',
        'Upgrade',
        'h2c',
        'HTTP2-Settings',
        'AAMA',
        'Content-Length',
        '5',
        'connection',
        'upgrade',
      ],
    });
    expect(head).toBe('POST /a?b=1 HTTP/1.1\r\nHost: x\r\nConnection: HTTP2-Settings\r\nHTTP2-Settings: AAMA\r\nContent-Length: 5\r\n\r\n');
  });

  it.each([
    ['a Content-Length body', 'Content-Length: 5\r\n', 'hello'],
    ['a chunked body', 'Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'],
  ])('is read by node:http as a plain request with the same body: %s', async (_what, framing, body) => {
    // The head node parsed as an upgrade, rebuilt and given back to a node:http server as its first bytes.
    const seen: { upgrade: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => (text += c));
      req.on('end', () => {
        seen.push({ upgrade: req.headers.upgrade, body: text });
        res.end('plain');
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket, rest: Buffer) => {
      server.emit('connection', socket);
      socket.emit('data', Buffer.concat([Buffer.from(plainRequestHead(req), 'latin1'), rest]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (c: string) => {
          text += c;
          if (text.endsWith('plain')) socket.end();
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.write(`POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n${framing}\r\n${body}`);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(seen).toEqual([{ upgrade: undefined, body: 'hello' }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
