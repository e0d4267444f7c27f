import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body whole, for replaying it on a retry. Only called for bodies whose declared
 * Content-Length is within the replay limit, so memory stays bounded; larger or chunked bodies are
 * streamed and simply not retried.
 */
export function readReplayableBody(req: IncomingMessage, done: (err: Error | undefined, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => done(undefined, Buffer.concat(chunks)));
  req.once('error', (err) => done(err));
}

/** The declared body length when it is known and at most `limit`, else undefined. */
export function smallDeclaredLength(req: IncomingMessage, limit: number): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined || req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(header);
  return Number.isInteger(length) && length >= 0 && length <= limit ? length : undefined;
}
