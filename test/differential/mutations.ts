import fc from 'fast-check';
import { llhttpRequests, llhttpResponses } from './fixtures';
import { requestDivergences, responseDivergences } from './properties';

/**
 * The mutation fuzzer's inputs: valid messages, mutated in the places parsers disagree on (http-garden
 * style): CR, LF, SP, HTAB, NUL, ':', ',' and digits inserted, deleted or doubled, letters changed in
 * case, header lines doubled; then cut into reads at random points.
 */

const CRLF = '\r\n';
const msg = (lines: string[], body = '') => lines.join(CRLF) + CRLF + CRLF + body;

export const REQUEST_SEEDS: readonly string[] = [
  msg(['GET / HTTP/1.1', 'Host: a']),
  msg(['GET /items/3?q=a%20b HTTP/1.1', 'Host: shop.example:8080', 'User-Agent: fuzz/1', 'Accept: */*', 'Connection: keep-alive']),
  msg(['POST /upload HTTP/1.1', 'Host: a', 'Content-Length: 5'], 'hello'),
  msg(['PUT /x HTTP/1.1', 'content-length: 007', 'Host: a', 'X-A: 1, 2'], 'abcdefg'),
  msg(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 0']),
  msg(['GET /a HTTP/1.1', 'Host: a']) + msg(['POST /b HTTP/1.1', 'Host: a', 'Content-Length: 3'], 'xyz') + msg(['GET /c HTTP/1.1', 'Host: a']),
  msg(['GET / HTTP/1.1', 'Host: a', 'Connection: close']) + msg(['GET /smuggled HTTP/1.1', 'Host: a']),
  msg(['POST /chunked HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  msg(['POST /chunked HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], '3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n') +
    msg(['GET /next HTTP/1.1', 'Host: a']),
  msg(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 6', 'Transfer-Encoding: chunked'], '0\r\n\r\nX'),
  msg(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 4', 'Content-Length: 4'], 'abcd'),
  msg(['GET / HTTP/1.0', 'Host: a']),
  msg(['GET http://a/x HTTP/1.1', 'Host: a']),
  msg(['GET / HTTP/1.1', 'Host: a', 'Expect: 100-continue', 'Content-Length: 2'], 'ok'),
  msg(['GET /ws HTTP/1.1', 'Host: a', 'Upgrade: websocket', 'Connection: Upgrade']),
  msg(['GET / HTTP/1.1', 'Host: a', 'X-Obs: caf\u00e9', 'Cookie: a=1', 'Cookie: b=2']),
];

export const RESPONSE_SEEDS: readonly string[] = [
  msg(['HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Type: text/plain'], 'hello'),
  msg(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'),
  msg(['HTTP/1.1 200 OK', 'Transfer-Encoding: gzip, chunked', 'X-A: 1'], 'a;x=y\r\n0123456789\r\n0\r\nTrailer-A: 1\r\n\r\n'),
  msg(['HTTP/1.1 200 OK', 'Content-Length: 3', 'Transfer-Encoding: chunked'], '3\r\nabc\r\n0\r\n\r\n'),
  msg(['HTTP/1.1 200 OK', 'Connection: close'], 'until the end'),
  msg(['HTTP/1.0 200 OK', 'Content-Length: 2'], 'hi'),
  msg(['HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 2'], 'hi'),
  msg(['HTTP/1.1 100 Continue']) + msg(['HTTP/1.1 200 OK', 'Content-Length: 2'], 'ok'),
  msg(['HTTP/1.1 103 Early Hints', 'Link: </a.css>; rel=preload']) + msg(['HTTP/1.1 204 No Content']),
  msg(['HTTP/1.1 304 Not Modified', 'ETag: "x"']),
  msg(['HTTP/1.1 204 No Content', 'Content-Length: 3'], 'abc'),
  msg(['HTTP/1.1 200 OK', 'Content-Length: 2', 'Content-Length: 2'], 'ok'),
  msg(['HTTP/1.1 200 OK', 'Content-Length: 2', 'Connection: x-private, keep-alive', 'X-Private: 1', 'Keep-Alive: timeout=5'], 'ok'),
  msg(['HTTP/1.1 404 ', 'Content-Length: 0']) + msg(['HTTP/1.1 200 OK', 'Content-Length: 1'], 'x'),
  msg(['HTTP/1.1 200 OK', 'Content-Length: 5'], 'hello') + 'HTTP/1.1 200 OK\r\n\r\n',
];

const INSERTED = ['\r', '\n', ' ', '\t', '\0', ':', ',', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

type Mutation =
  | { kind: 'insert' | 'double'; at: number; char: string }
  | { kind: 'delete' | 'case'; at: number }
  | { kind: 'double-line'; line: number }
  | { kind: 'line-end' | 'after-colon'; line: number; char: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom<'insert' | 'double'>('insert', 'double'), at: fc.nat(), char: fc.constantFrom(...INSERTED) }),
  fc.record({ kind: fc.constantFrom<'delete' | 'case'>('delete', 'case'), at: fc.nat() }),
  fc.record({ kind: fc.constant<'double-line'>('double-line'), line: fc.nat() }),
  // Where parsers most often disagree: at the end of a line, and around a header's colon.
  fc.record({ kind: fc.constantFrom<'line-end' | 'after-colon'>('line-end', 'after-colon'), line: fc.nat(), char: fc.constantFrom(...INSERTED) }),
);

/** Applies one mutation; positions are taken modulo the text's length. */
function mutate(text: string, m: Mutation): string {
  if (m.kind === 'double-line') {
    // A header line of the first head, doubled in place (duplicate headers).
    const lines = text.split(CRLF);
    const headLines = Math.max(1, lines.indexOf(''));
    const i = 1 + (m.line % Math.max(1, headLines - 1));
    if (i >= headLines) return text;
    lines.splice(i, 0, lines[i]);
    return lines.join(CRLF);
  }
  if ('line' in m) {
    // A line of the first head: the character goes before its CRLF, or after its first colon.
    const lines = text.split(CRLF);
    const headLines = Math.max(1, lines.indexOf(''));
    const i = m.line % headLines;
    const line = lines[i];
    const colon = line.indexOf(':');
    lines[i] = m.kind === 'line-end' ? line + m.char : colon < 0 ? line : line.slice(0, colon + 1) + m.char + line.slice(colon + 1);
    return lines.join(CRLF);
  }
  const at = text.length === 0 ? 0 : m.at % text.length;
  switch (m.kind) {
    case 'insert':
      return text.slice(0, at) + m.char + text.slice(at);
    case 'double':
      return text.slice(0, at) + text[at] + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + 1);
    case 'case': {
      const c = text[at] ?? '';
      const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
      return text.slice(0, at) + flipped + text.slice(at + 1);
    }
  }
}

/** One fuzz case: a seed message, its mutations applied in order, and where it is cut into reads. */
export interface FuzzCase {
  input: Buffer;
  splits: number[];
  isHead: boolean;
}

/** Three cases in four start from the hand-written seeds (the messages the balancer sees), one from one of llhttp's fixture inputs. */
function cases(own: readonly string[], corpus: readonly string[]): fc.Arbitrary<FuzzCase> {
  const seeds = [...own, ...corpus];
  return fc
    .record({
      seed: fc.oneof({ arbitrary: fc.nat(own.length - 1), weight: 3 }, { arbitrary: fc.integer({ min: own.length, max: seeds.length - 1 }), weight: 1 }),
      mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
      splits: fc.array(fc.nat(), { maxLength: 4 }),
      isHead: fc.boolean(),
    })
    .map(({ seed, mutations, splits, isHead }) => ({
      input: Buffer.from(mutations.reduce(mutate, seeds[seed]), 'latin1'),
      splits,
      isHead,
    }));
}

export const requestCases = cases(
  REQUEST_SEEDS,
  llhttpRequests.map((c) => c.input),
);
export const responseCases = cases(
  RESPONSE_SEEDS,
  llhttpResponses.map((c) => c.input),
);

/** A case as text that can be pasted back into a test. */
export function describeCase(c: FuzzCase): string {
  return `${JSON.stringify(c.input.toString('latin1'))} split at ${JSON.stringify(c.splits)}${c.isHead ? ' (HEAD)' : ''}`;
}

/** The mutated requests hold the request-side properties (see request-properties.ts). */
export const requestProperty = fc.property(requestCases, (c) => expectAgreement(c, requestDivergences(c.input, c.splits)));
/** The mutated worker answers hold the response-side property, each as the answer to a GET or a HEAD. */
export const responseProperty = fc.property(responseCases, (c) => expectAgreement(c, responseDivergences(c.input, c.splits, c.isHead)));

function expectAgreement(c: FuzzCase, problems: string[]): void {
  if (problems.length > 0) throw new Error(`ours and llhttp disagree on ${describeCase(c)}:\n${problems.join('\n')}`);
}
