import type { IncomingMessage } from 'node:http';

export type JsonBody = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; error: string; message: string };

const JSON_TYPE = /^application\/json[ \t]*(;|$)/i;

/**
 * Reads a changing admin route's JSON body, `limitBytes` at most (an operator's few fields; more is 413
 * and the connection closes, so the rest is never read). Content-Type must be application/json or absent
 * (RFC 9110 section 8.3); anything else is 415 rather than a guess. Resolves undefined when the client
 * went away first: there is no one to answer. The admin server's requestTimeout bounds a slow body.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<JsonBody | undefined> {
  const type = req.headers['content-type'];
  if (type !== undefined && !JSON_TYPE.test(type)) {
    return Promise.resolve({ ok: false, status: 415, error: 'unsupported_media_type', message: 'the body must be application/json' });
  }
  const tooLarge: JsonBody = { ok: false, status: 413, error: 'body_too_large', message: `the body exceeds ${limitBytes} bytes` };
  if (Number(req.headers['content-length']) > limitBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) chunks.push(chunk);
      else {
        req.pause();
        resolve(tooLarge);
      }
    });
    req.on('close', () => resolve(undefined));
    req.on('end', () => {
      if (size > limitBytes) return;
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        resolve({ ok: false, status: 400, error: 'malformed_json', message: 'the body is not valid JSON' });
      }
    });
  });
}
