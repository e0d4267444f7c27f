import { connectionTokens, HOP_BY_HOP } from '../../balancer/hop-by-hop';
import { cut, sameList, show } from './compare';
import { LENIENT_CHUNKED_LENGTH, llhttpParse, type LlhttpResult } from './llhttp';
import { responseReading } from './ours';

/** The headers a proxy relays from llhttp's reading of a response: hop-by-hop ones, those Connection names, and Content-Length beside Transfer-Encoding left out. */
function endToEnd(raw: readonly string[]): string[] {
  const connection: string[] = [];
  let te = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'connection') connection.push(raw[i + 1]);
    if (name === 'transfer-encoding') te = true;
  }
  const named = connectionTokens(connection.join(','));
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || named.includes(name) || (te && name === 'content-length')) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/**
 * The response parser never relays a response llhttp frames differently (it may refuse more): every
 * head it passes on is one llhttp read, with the same status and end-to-end headers; the body it relays
 * is llhttp's (a prefix of it while unfinished); it ends where llhttp ends, and calls the connection
 * reusable only when llhttp would keep it alive with nothing after the response.
 */
export function responseDivergences(input: Buffer, at: readonly number[], isHead: boolean): string[] {
  const problems: string[] = [];
  const pieces = cut(input, at);
  const ours = responseReading(pieces, isHead);
  // llhttp gets what the connection had read when the exchange ended: bytes of a later read are not
  // there yet when it decides to reuse the socket (and, arriving on an idle socket, get it closed).
  const ll = llhttpResponse(ours.end === undefined ? pieces : pieces.slice(0, ours.readsTaken), ours.end === undefined || ours.endedByClose, isHead);
  ours.heads.forEach((head, i) => {
    const m = ll.messages[i];
    if (m === undefined) return problems.push(`head ${i} (${head.status}) relayed, llhttp: ${ll.error?.code ?? 'no such response'} ${ll.error?.reason ?? ''}`);
    if (m.status !== head.status) problems.push(`head ${i}: status ${head.status}, llhttp ${m.status}`);
    const expected = endToEnd(m.rawHeaders);
    if (!sameList(expected, head.headers)) problems.push(`head ${i}: headers ${show(head.headers)}, llhttp ${show(expected)}`);
  });
  if (ours.heads.length === 0) return problems;
  const last = ll.messages[ours.heads.length - 1];
  if (last === undefined) return problems;
  if (!last.body.startsWith(ours.body)) problems.push(`body ${show(ours.body)} relayed, llhttp ${show(last.body)} (${ll.error?.code ?? 'no error'})`);
  if (ours.end !== undefined) {
    if (!last.complete || last.body !== ours.body)
      problems.push(
        `ended with body ${show(ours.body)}, llhttp ${last.complete ? 'ended' : 'did not end'} with ${show(last.body)} (${ll.error?.code ?? 'no error'})`,
      );
    if (ours.end.keepAlive && (!last.shouldKeepAlive || ll.messages.length !== ours.heads.length || ll.error !== undefined)) {
      problems.push(`reused the connection, llhttp: keep-alive ${last.shouldKeepAlive}, ${ll.messages.length} responses, ${ll.error?.code ?? 'no error'}`);
    }
  }
  return problems;
}

/**
 * llhttp's reading of a worker's answer, as node's client parser. Two refusals of node's strict mode
 * are the RFC's choices, which the response parser makes otherwise, so there the reference is llhttp's
 * reading of the message as the RFC lets a recipient take it:
 * - Transfer-Encoding beside Content-Length: RFC 9112 section 6.3 has an intermediary frame by the
 *   former and remove the latter (the parser does, and closes the connection after): llhttp with its
 *   chunked-length leniency, which frames that way.
 * - The same Content-Length repeated: RFC 9110 section 8.6 lets a recipient take identical values as
 *   one (issue 11 finding 9): llhttp's reading with the repeats removed (as the same decimal value).
 */
function llhttpResponse(pieces: Buffer[], eof: boolean, isHead: boolean): LlhttpResult {
  const options = { eof, isHead: (i: number) => i === 0 && isHead, lenient: 0 };
  let input = pieces;
  let result = llhttpParse('response', input, options);
  for (let tries = 0; tries < 2 && result.error !== undefined; tries++) {
    if (/can't be present with/.test(result.error.reason)) options.lenient = LENIENT_CHUNKED_LENGTH;
    else if (result.error.reason === 'Duplicate Content-Length' || result.error.reason === 'Invalid character in Content-Length') {
      const collapsed = withoutRepeatedLengths(Buffer.concat(input));
      if (collapsed === undefined) break;
      input = [collapsed];
    } else break;
    result = llhttpParse('response', input, options);
  }
  return result;
}

/**
 * The first head as RFC 9110 section 8.6 lets a recipient read repeated lengths: a list of one value
 * repeated (`2, 2`) is that value, and a Content-Length line repeating the first one's value is
 * dropped. undefined when there is nothing of the kind to rewrite (llhttp's refusal then stands).
 */
function withoutRepeatedLengths(data: Buffer): Buffer | undefined {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  let first: number | undefined;
  let rewritten = false;
  const lines: string[] = [];
  for (const line of text.slice(0, end).split('\r\n')) {
    const m = /^(content-length:)[ \t]*(.*?) *$/i.exec(line);
    const items = m?.[2].split(',').map((item) => item.replace(/^[ \t]+|[ \t]+$/g, ''));
    if (m === null || items === undefined || !items.every((item) => /^\d+$/.test(item) && Number(item) === Number(items[0]))) {
      lines.push(line);
      continue;
    }
    const value = Number(items[0]);
    if (items.length > 1) rewritten = true;
    if (first === undefined) first = value;
    else if (value === first) {
      rewritten = true;
      continue;
    }
    lines.push(`${m[1]} ${items[0]}`);
  }
  return rewritten ? Buffer.from(lines.join('\r\n') + text.slice(end), 'latin1') : undefined;
}
