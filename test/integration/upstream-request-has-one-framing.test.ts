import type { RunningProcess } from '../helpers/processes';
import { headerNamesOf, sendRaw, startRecordingWorker, type RecordingWorker } from '../helpers/raw-http';
import { startBalancerFronting } from '../helpers/registration';

/**
 * Whatever framing a client's request arrives with, the request a worker receives has exactly one:
 * a Content-Length or `Transfer-Encoding: chunked`, never both (RFC 9112 section 6.1), so a worker
 * that frames by Content-Length cannot read the balancer's chunk framing as a second request. The
 * worker is a raw TCP socket that records the bytes it is sent; the client is a raw socket too.
 */

/** Transfer-Encoding gadgets (after defparam/smuggler's list), each sent with a chunked and a Content-Length body. */
const GADGETS: Record<string, string> = {
  'empty Transfer-Encoding': 'Transfer-Encoding:\r\n',
  'blank Transfer-Encoding': 'Transfer-Encoding:   \r\n',
  'chunked, tab before': 'Transfer-Encoding:\tchunked\r\n',
  'CHUNKED upper case': 'Transfer-Encoding: CHUNKED\r\n',
  'gzip, chunked': 'Transfer-Encoding: gzip, chunked\r\n',
  'chunked, gzip': 'Transfer-Encoding: chunked, gzip\r\n',
  identity: 'Transfer-Encoding: identity\r\n',
  'leading comma': 'Transfer-Encoding: ,chunked\r\n',
  'two lines gzip then chunked': 'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n',
  'chunked then an empty line': 'Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n',
  'lower-case name': 'transfer-encoding: chunked\r\n',
};

const CHUNKED_BODY = '5\r\nhello\r\n0\r\n\r\n';

describe('the request a worker receives has one framing', () => {
  let worker: RecordingWorker;
  let balancer: RunningProcess;

  beforeAll(async () => {
    worker = await startRecordingWorker();
    balancer = await startBalancerFronting(worker.url, 'raw');
  });
  afterAll(async () => {
    await balancer?.stop();
    await worker?.close();
  });

  /** Every head the worker received from connection `from` on holds at most one framing header, and never two lines of one. */
  function expectOneFramingUpstream(from: number): void {
    for (const bytes of worker.received.slice(from)) {
      const names = headerNamesOf(bytes);
      const lengths = names.filter((n) => n === 'content-length').length;
      const codings = names.filter((n) => n === 'transfer-encoding').length;
      // On failure the offending head is printed.
      expect(lengths + codings <= 1 ? 'one framing' : bytes.slice(0, bytes.indexOf('\r\n\r\n'))).toBe('one framing');
    }
  }

  it('refuses an empty Transfer-Encoding beside a Content-Length with 400, and the worker is sent nothing', async () => {
    const before = worker.received.length;
    const res = await sendRaw(balancer.port, 'POST /smuggle HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello');
    expect(res?.status).toBe(400);
    expect(res?.headers.connection).toBe('close');
    expect(JSON.parse(res!.body)).toMatchObject({ error: 'ambiguous_framing' });
    expect(worker.received.length).toBe(before);
  });

  it('forwards a plain chunked upload as chunked, with no Content-Length', async () => {
    const before = worker.received.length;
    const res = await sendRaw(balancer.port, `POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
    expect(res?.status).toBe(200);
    expect(worker.received.length).toBe(before + 1);
    const names = headerNamesOf(worker.received[before]);
    expect(names).toContain('transfer-encoding');
    expect(names).not.toContain('content-length');
    expect(worker.received[before]).toContain('5\r\nhello\r\n0\r\n\r\n');
  });

  it.each(Object.entries(GADGETS))('never sends both framings for %s', async (_name, lines) => {
    const before = worker.received.length;
    for (const body of [`Content-Length: 5\r\n\r\nhello`, `\r\n${CHUNKED_BODY}`]) {
      const res = await sendRaw(balancer.port, `POST /gadget HTTP/1.1\r\nHost: x\r\n${lines}${body}`);
      // Refused (by node's parser or the balancer) or forwarded with one framing; never anything else.
      expect([200, 400, 501]).toContain(res?.status);
    }
    expectOneFramingUpstream(before);
  });

  it('refuses Transfer-Encoding in an HTTP/1.0 request (RFC 9112 section 6.1: its framing is faulty)', async () => {
    const before = worker.received.length;
    const res = await sendRaw(balancer.port, `POST /old HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`);
    expect(res?.status).toBe(400);
    expect(worker.received.length).toBe(before);
  });

  it('answers 501 for a transfer coding it does not implement (gzip, chunked), as nginx does', async () => {
    const res = await sendRaw(balancer.port, `POST /gzip HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${CHUNKED_BODY}`);
    expect(res?.status).toBe(501);
    expect(JSON.parse(res!.body)).toMatchObject({ error: 'unsupported_transfer_coding' });
  });
});
