import { Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { ClientRequest } from '../../balancer/listener/client-request';
import { parseRequestHead, type RequestHead } from '../../balancer/listener/request-head';
import { LAST_CHUNK, MAX_HEAD_BYTES, writeChunk } from '../../balancer/http-syntax';
import type { ProxyRequest } from '../../balancer/proxy/client-types';
import { TrustPolicy } from '../../balancer/proxy/forwarding';
import { buildUpstreamRequest, type UpstreamRequest } from '../../balancer/proxy/upstream-request';
import { ResponseParseError, ResponseParser } from '../../balancer/upstream/response-parser';
import { serializeRequestHead } from '../../balancer/upstream/request-head';
import type { LlhttpMessage } from './llhttp';

/** A request the listener serves on its fast path, with the body bytes it streams into it. */
export interface ServedRequest {
  head: RequestHead;
  /** latin1: the body bytes the connection fed the request (fewer than contentLength if the input ended). */
  body: string;
}

/** What the listener does with one connection's bytes: the requests it serves itself, then whether it hands over. */
export interface ListenerReading {
  served: ServedRequest[];
  /** The rest of the connection went to node:http (parseRequestHead refused a head, or one was too long). */
  handedOver: boolean;
}

/**
 * The listener's framing of a connection's bytes, step for step as ClientConnection.readBufferedRequests,
 * start and feedBody (balancer/listener/client-connection.ts) do it, with every answer assumed to come
 * after its request's body: a head ends at the first CRLFCRLF and is handed over past MAX_HEAD_BYTES; a
 * head parseRequestHead refuses hands the connection over; a body is Content-Length bytes; after a
 * request without keep-alive the rest is never read. The head parser is the real one.
 */
export function listenerReading(data: Buffer): ListenerReading {
  const served: ServedRequest[] = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0 || end - at > MAX_HEAD_BYTES) {
      return { served, handedOver: end - at > MAX_HEAD_BYTES || data.length - at > MAX_HEAD_BYTES };
    }
    const head = parseRequestHead(data.toString('latin1', at, end));
    if (typeof head === 'string') return { served, handedOver: true };
    const bodyStart = end + 4;
    const bodyEnd = Math.min(data.length, bodyStart + head.contentLength);
    served.push({ head, body: data.toString('latin1', bodyStart, bodyEnd) });
    at = bodyEnd;
    if (!head.keepAlive) break;
  }
  return { served, handedOver: false };
}

const NOBODY = new TrustPolicy('');
const VIA = '1.1 lb-differential';
export const WORKER_HOST = '127.0.0.1:9';

/** The fast path's request object for a served head, as ClientConnection.start builds it. */
export function fastPathRequest(head: RequestHead): ProxyRequest {
  return new ClientRequest(head, new Socket(), head.contentLength > 0 ? () => {} : null);
}

/** node:http's request as the data plane sees it (fromIncomingMessage), from what llhttp read. */
export function nodePathRequest(message: LlhttpMessage): ProxyRequest {
  const body = new Readable({ read() {} });
  return {
    method: message.method,
    url: message.url,
    rawHeaders: message.rawHeaders,
    httpVersionMinor: message.versionMinor,
    headers: {},
    socket: { remoteAddress: '203.0.113.7' },
    bodyStream: body,
  };
}

/** Collects what is written to it, as latin1; synchronously, as _write completes at once (cork and uncork included). */
class Recorder extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('latin1');
    done();
  }
}

/** The request built for the worker, and the bytes the pool's connection writes for it. */
export interface UpstreamBytes {
  request: UpstreamRequest;
  /** The body streamed as `bodyPieces` arrive (UpstreamConnection.send, onBodyData, onBodyEnd). */
  streamed: Buffer;
  /** The body kept whole for a retry and sent as one Buffer; undefined when the proxy would not keep it. */
  kept: Buffer | undefined;
}

/**
 * What the data plane sends the worker for `req` whose body is `bodyPieces` (the body stream's chunks):
 * buildUpstreamRequest, then serializeRequestHead and the body writes of balancer/upstream/connection.ts.
 */
export function upstreamBytes(req: ProxyRequest, bodyPieces: readonly string[]): UpstreamBytes {
  const request = buildUpstreamRequest(req, '203.0.113.7', NOBODY, VIA);
  const head = serializeRequestHead(request, WORKER_HOST);
  const out = new Recorder();
  out.write(head, 'latin1');
  if (request.body !== null) {
    for (const piece of bodyPieces) {
      const chunk = Buffer.from(piece, 'latin1');
      if (request.chunked) writeChunk(out, chunk);
      else out.write(chunk);
    }
    if (request.chunked) out.write(LAST_CHUNK, 'latin1');
  }
  const kept = request.body !== null && request.declaredLength !== undefined ? Buffer.from(head + bodyPieces.join(''), 'latin1') : undefined;
  return { request, streamed: Buffer.from(out.text, 'latin1'), kept };
}

/** What the response parser did with a worker's bytes. */
export interface ResponseReading {
  heads: { status: number; headers: string[] }[];
  /** latin1; the final response's body as relayed so far. */
  body: string;
  /** Set at the response's end (onEnd), or at the close for a close-delimited body (finish()). */
  end?: { keepAlive: boolean };
  /** The parser refused the response (a 502 to the client), with its message. */
  error?: string;
  /** How many of the reads it took: the connection stops reading for this exchange at its end. */
  readsTaken: number;
  /** The end came with the worker's close (a close-delimited body). */
  endedByClose: boolean;
}

/** Feeds `pieces` to a fresh ResponseParser as the pool's connection does, then the worker's close. */
export function responseReading(pieces: readonly Buffer[], isHead: boolean): ResponseReading {
  const reading: ResponseReading = { heads: [], body: '', readsTaken: 0, endedByClose: false };
  const parser = new ResponseParser({
    onHead: (status, headers) => reading.heads.push({ status, headers: [...headers] }),
    onBody: (chunk) => (reading.body += chunk.toString('latin1')),
    onEnd: (keepAlive, lastChunk) => {
      if (lastChunk !== undefined) reading.body += lastChunk;
      reading.end = { keepAlive };
    },
  });
  parser.start(isHead);
  try {
    for (const piece of pieces) {
      if (reading.end !== undefined) break;
      reading.readsTaken++;
      parser.execute(piece);
    }
    if (reading.end === undefined) {
      reading.endedByClose = parser.finish();
      if (!reading.endedByClose) reading.error = 'closed before the response ended';
    }
  } catch (err) {
    if (!(err instanceof ResponseParseError)) throw err;
    reading.error = err.message;
  }
  return reading;
}
