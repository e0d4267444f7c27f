import fc from 'fast-check';
import { parseRequestHead } from '../../balancer/listener/request-head';
import { requestCases, responseCases } from './mutations';
import { responseReading } from './ours';

/**
 * Fail closed, one grammar per parser: whatever a head parser accepts matches the RFC 9112 grammar of
 * its subset, written out here on its own (section 3 request-line in origin-form, section 4
 * status-line, section 5 field lines with RFC 9110 section 5.5's field characters). A head outside it
 * is handed over or refused (502) whatever else is looked at after the pattern.
 */

const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const FIELD_LINE = `\\r\\n${TCHAR}+:[\\t\\x20-\\x7e\\x80-\\xff]*`;
const REQUEST_GRAMMAR = new RegExp(`^[A-Z]+ \\/[\\x21-\\x7e]* HTTP\\/1\\.1(?:${FIELD_LINE})*$`);
const RESPONSE_GRAMMAR = new RegExp(`^HTTP\\/1\\.[01] [1-9][0-9][0-9](?: [\\t\\x20-\\x7e\\x80-\\xff]*)?(?:${FIELD_LINE})*$`);

const firstHead = (data: Buffer) => {
  const text = data.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? undefined : text.slice(0, end);
};

describe('one grammar per parser', () => {
  it('parseRequestHead accepts only heads of the request grammar (8,000 mutated heads)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(requestCases, (c) => {
        const head = firstHead(c.input);
        if (head === undefined || typeof parseRequestHead(head) === 'string') return;
        accepted++;
        if (!REQUEST_GRAMMAR.test(head)) throw new Error(`accepted outside the grammar: ${JSON.stringify(head)}`);
      }),
      { seed: 0x33_2024, numRuns: 8_000 },
    );
    // Enough heads are accepted for the check to mean something.
    expect(accepted).toBeGreaterThan(500);
  });

  it('the response parser relays only heads of the status-line grammar (8,000 mutated answers)', () => {
    let relayed = 0;
    fc.assert(
      fc.property(responseCases, (c) => {
        const reading = responseReading([c.input], c.isHead);
        const head = firstHead(c.input);
        if (reading.heads.length === 0 || head === undefined) return;
        relayed++;
        if (!RESPONSE_GRAMMAR.test(head)) throw new Error(`relayed outside the grammar: ${JSON.stringify(head)}`);
      }),
      { seed: 0x44_2024, numRuns: 8_000 },
    );
    expect(relayed).toBeGreaterThan(500);
  });
});
