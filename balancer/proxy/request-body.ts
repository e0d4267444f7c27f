import type { Readable } from 'node:stream';

/**
 * Reads a request body whole, for replaying it on a retry. Only called for bodies whose declared
 * Content-Length is within the replay limit, so memory stays bounded; larger or chunked bodies are
 * streamed and simply not retried.
 */
export function readReplayableBody(req: Readable, done: (err: Error | undefined, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => done(undefined, Buffer.concat(chunks)));
  req.once('error', (err) => done(err));
}
