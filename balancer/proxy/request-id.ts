import { randomBytes } from 'node:crypto';
import { sameName } from '../http-syntax';

/** The header that names one request end to end: to the worker, back to the client, in the logs. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Longest client id kept; a longer one is replaced. UUIDs (36), W3C trace ids (32) and ULIDs (26) fit with room. */
export const MAX_REQUEST_ID_LENGTH = 128;

/**
 * The characters a client's id may hold: letters, digits and `-_.:+/=@`. Enough for UUIDs, ULIDs,
 * base64 and base64url, `host:pid:n` forms (Heroku's router takes `A-Za-z0-9+/=-`, Rails keeps
 * `\w-@`); nothing that needs quoting in a header, a log line or a shell (no space, quote, backslash,
 * comma, semicolon or control character), so an id is copied anywhere as it is.
 */
const ALLOWED = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) ALLOWED[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) ALLOWED[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) ALLOWED[c] = 1;
for (const c of '-_.:+/=@') ALLOWED[c.charCodeAt(0)] = 1;

/** Whether a client's X-Request-Id is kept as it is: 1 to 128 characters, all of them allowed. */
export function isAcceptableRequestId(id: string): boolean {
  const n = id.length;
  if (n === 0 || n > MAX_REQUEST_ID_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c >= 128 || ALLOWED[c] === 0) return false;
  }
  return true;
}

/** The three low digits of a counter, zero-padded, made once: an id then costs no number-to-string conversion. */
const LOW_DIGITS: readonly string[] = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
/** The same digits ending a header line. */
const LOW_LINE_ENDS: readonly string[] = LOW_DIGITS.map((digits) => `${digits}\r\n`);

/**
 * `s` as one flat string. A concatenation is a tree of its parts, walked again each time it is copied
 * into a longer string's bytes; a copy made through a Buffer is one piece. Run once per thousand ids.
 */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * Makes the balancer's own request ids: a prefix random per process, then a decimal counter from
 * 1000 up, `<12 hex>-<n>`. No UUID and no crypto call per request: the random bytes are drawn once,
 * and the counter's digits above the last three are turned into text once per thousand ids, so an
 * id, and its header line, are each one concatenation of two flat strings already made. 48 random
 * bits keep two processes' ids apart (a collision is likely only among millions of processes).
 */
export class RequestIds {
  private count = 999;
  /** The prefix and the counter's digits above the last three. */
  private head = '';
  /** `X-Request-Id: ` and the same. */
  private lineHead = '';
  private last = '';

  constructor(private readonly prefix = `${randomBytes(6).toString('hex')}-`) {}

  /** The id for a request: the client's (`given`, when it sent exactly one) if acceptable, else a new one. */
  choose(given: string | undefined): string {
    if (given !== undefined && isAcceptableRequestId(given)) return given;
    const low = ++this.count % 1000;
    if (low === 0) {
      this.head = flat(`${this.prefix}${this.count / 1000}`);
      this.lineHead = flat(`X-Request-Id: ${this.head}`);
    }
    return (this.last = this.head + LOW_DIGITS[low]);
  }

  /**
   * The id's header line, `X-Request-Id: <id>\r\n`, made once per request and written into both the
   * worker's request head and the client's response head. For the id choose() made last it is built
   * from the pieces made once per thousand.
   */
  line(id: string): string {
    if (id === this.last) return this.lineHead + LOW_LINE_ENDS[this.count % 1000];
    return `X-Request-Id: ${id}\r\n`;
  }
}

/** This process's ids, shared by both data paths and the upgrade path. */
export const processRequestIds = new RequestIds();

/**
 * Takes a worker's own X-Request-Id out of its response headers (a flat list the caller owns), for a
 * response that writes the request's id from its line instead, first (see withRequestId for why ours wins).
 * The usual response has none: the loop then only compares name lengths.
 */
export function withoutRequestId(headers: string[]): string[] {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (name.length === 12 && sameName(name, 'x-request-id')) {
      headers.splice(i, 2);
      i -= 2;
    }
  }
  return headers;
}

/**
 * Puts the request's id first in the worker's response headers (a flat list the caller owns), for a
 * response written from such a list (node's, the upgrade's 101). Ours wins over one the worker set:
 * the client then sees the id the worker was sent, the one the access log shows (Envoy's
 * always_set_request_id_in_response does the same).
 */
export function withRequestId(headers: string[], id: string): string[] {
  const out = withoutRequestId(headers);
  out.unshift(REQUEST_ID_HEADER, id);
  return out;
}
