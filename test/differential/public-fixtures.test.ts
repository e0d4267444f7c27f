import { llhttpRequests, llhttpResponses, smugglerGadgets } from './fixtures';
import { requestDivergences, responseDivergences } from './properties';

/** The public corpora (see fixtures/README.md), each case whole and cut into reads at a few points. */

const bytes = (s: string) => Buffer.from(s, 'latin1');
const SPLITS: readonly number[][] = [[], [1], [17, 40], [2, 3, 5, 8, 13, 21, 34, 55, 89]];

/**
 * A request around one of smuggler's Transfer-Encoding gadgets, as its templates build them: the
 * gadget line after the request line, then Host and the rest, Content-Length, and a body that is a
 * complete chunked body followed by a second request (CL.TE) or a chunk that never ends (TE.CL).
 */
function gadgetRequests(gadget: string): string[] {
  const head = (length: number) =>
    `POST /?cb=1 HTTP/1.1\r\n${gadget}\r\nHost: a\r\nContent-type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: ${length}\r\n\r\n`;
  const clte = '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
  const tecl = '1\r\nZ\r\nQ';
  return [head(clte.length) + clte, head(5) + tecl, head(clte.length) + clte + 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n'];
}

describe('llhttp request fixtures (nodejs/llhttp test/request)', () => {
  it.each(llhttpRequests.map((c) => [`${c.source} ${c.name}`, c.input] as const))('%s', (_name, input) => {
    for (const at of SPLITS) expect(requestDivergences(bytes(input), at)).toEqual([]);
  });
});

describe('llhttp response fixtures (nodejs/llhttp test/response)', () => {
  it.each(llhttpResponses.map((c) => [`${c.source} ${c.name}`, c.input] as const))('%s', (_name, input) => {
    for (const at of SPLITS) for (const isHead of [false, true]) expect(responseDivergences(bytes(input), at, isHead)).toEqual([]);
  });
});

describe("defparam/smuggler's Transfer-Encoding gadgets", () => {
  it(`frames all ${smugglerGadgets.length} gadgets, in CL.TE and TE.CL requests, as llhttp does`, () => {
    const problems: string[] = [];
    for (const { name, gadget } of smugglerGadgets) {
      for (const request of gadgetRequests(gadget)) {
        for (const at of SPLITS.slice(0, 2)) for (const p of requestDivergences(bytes(request), at)) problems.push(`${name}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('uses gadgets as responses too: a worker answer with the gadget line', () => {
    const problems: string[] = [];
    for (const { name, gadget } of smugglerGadgets) {
      const answer = `HTTP/1.1 200 OK\r\n${gadget}\r\nContent-Length: 5\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`;
      for (const p of responseDivergences(bytes(answer), [], false)) problems.push(`${name}: ${p}`);
    }
    expect(problems).toEqual([]);
  });
});
