import { METHODS } from 'node:http';
import { createRequestCheck, DEFAULT_MAX_REQUEST_HEADERS } from '../../balancer/proxy/check-request';
import { cut, sameList, show } from './compare';
import { llhttpParse, type LlhttpMessage } from './llhttp';
import { fastPathRequest, listenerReading, nodePathRequest, upstreamBytes } from './ours';

/**
 * node:http also reads RTSP and ICE request lines (ANNOUNCE / RTSP/1.0), and the data plane forwards
 * them as HTTP/1.1, which a worker's parser refuses with 400 (noted in issue 11's report, not a
 * framing question): the node-path check takes the HTTP methods only.
 */
const HTTP_METHODS: ReadonlySet<string> = new Set([...METHODS, 'QUERY']);

/** The proxy pipeline's check step, with the default header cap. */
const checkRequest = createRequestCheck(DEFAULT_MAX_REQUEST_HEADERS);

/**
 * The listener never serves on its fast path a request llhttp frames differently, and the data plane
 * never sends a worker a request whose framing differs from the one read: for the fast path's requests
 * and for node:http's (what llhttp read), the bytes sent upstream are read back by llhttp as exactly
 * one message with the same method, target, headers and body.
 */
export function requestDivergences(input: Buffer, at: readonly number[]): string[] {
  const problems: string[] = [];
  const ours = listenerReading(input);
  const ll = llhttpParse('request', cut(input, at));
  ours.served.forEach((req, i) => {
    const m = ll.messages[i];
    const where = `fast-path request ${i}`;
    if (m === undefined) return problems.push(`${where} served, llhttp: ${ll.error?.code ?? 'no such request'}`);
    if (m.method !== req.head.method || m.url !== req.head.url) problems.push(`${where}: ${req.head.method} ${req.head.url}, llhttp ${m.method} ${m.url}`);
    if (m.versionMajor !== 1 || m.versionMinor !== 1 || m.upgrade)
      problems.push(`${where}: llhttp read HTTP/${m.versionMajor}.${m.versionMinor}, upgrade ${m.upgrade}`);
    if (!sameList(m.rawHeaders, req.head.rawHeaders)) problems.push(`${where}: headers ${show(req.head.rawHeaders)}, llhttp ${show(m.rawHeaders)}`);
    if (m.body !== req.body) problems.push(`${where}: body ${show(req.body)}, llhttp ${show(m.body)}`);
    const bodyEnded = req.body.length === req.head.contentLength;
    if (bodyEnded !== m.complete) problems.push(`${where}: body ended ${bodyEnded}, llhttp ${m.complete} (${ll.error?.code ?? 'no error'})`);
    if (req.head.keepAlive && !m.shouldKeepAlive) problems.push(`${where}: kept alive, llhttp would close`);
  });
  for (const req of ours.served) {
    if (req.body.length !== req.head.contentLength) continue;
    const request = fastPathRequest(req.head);
    problems.push(...upstreamDivergences('fast path', request, req.body));
  }
  for (const m of ll.messages) {
    if (!m.complete || m.upgrade || !HTTP_METHODS.has(m.method!)) continue;
    problems.push(...upstreamDivergences('node:http path', nodePathRequest(m), m.body, m));
  }
  return problems;
}

function upstreamDivergences(path: string, request: ReturnType<typeof fastPathRequest>, body: string, read?: LlhttpMessage): string[] {
  // The body as the request stream would carry it: in two chunks, to exercise re-chunking of each.
  const half = body.length >> 1;
  const sent = upstreamBytes(request, half === 0 ? [body] : [body.slice(0, half), body.slice(half)]);
  // The proxy's check step refuses it before any worker is asked: nothing goes upstream.
  if (checkRequest(sent.request) !== undefined) return [];
  const problems: string[] = [];
  const what = `${path} ${request.method} ${request.url} ${show(read?.rawHeaders ?? request.rawHeaders)}`;
  for (const [how, bytes] of [
    ['streamed', sent.streamed],
    ['kept', sent.kept],
  ] as const) {
    if (bytes === undefined) continue;
    const up = llhttpParse('request', [bytes]);
    const m = up.messages[0];
    if (up.error !== undefined || up.messages.length !== 1 || m === undefined || !m.complete) {
      problems.push(
        `${what}: upstream (${how}) read by llhttp as ${up.messages.length} message(s), ${up.error?.code ?? 'no error'}: ${show(bytes.toString('latin1'))}`,
      );
      continue;
    }
    if (m.body !== body) problems.push(`${what}: upstream (${how}) body ${show(m.body)}, sent ${show(body)}`);
    // llhttp must read back exactly the head written: no header added, lost or split.
    const headEnd = bytes.indexOf('\r\n\r\n', 0, 'latin1') + 4;
    let readBack = `${m.method} ${m.url} HTTP/1.1\r\n`;
    for (let i = 0; i < m.rawHeaders.length; i += 2) readBack += `${m.rawHeaders[i]}: ${m.rawHeaders[i + 1]}\r\n`;
    if (readBack + '\r\n' !== bytes.toString('latin1', 0, headEnd)) problems.push(`${what}: upstream head read back differently: ${show(readBack)}`);
  }
  return problems;
}
