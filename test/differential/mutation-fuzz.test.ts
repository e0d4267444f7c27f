import fc from 'fast-check';
import { requestProperty, responseProperty } from './mutations';

/**
 * The seeded mutation fuzzer, a fixed number of cases per run of the suite (the seeds are fixed, so a
 * failure here reproduces as it is; `npm run fuzz -- --minutes N` runs fresh seeds for longer).
 */
describe('mutated messages: ours and llhttp agree', () => {
  it('on 12,000 mutated, pipelined and split requests (fast path, and what goes upstream on either path)', () => {
    fc.assert(requestProperty, { seed: 0x11_2024, numRuns: 12_000 });
  });

  it('on 9,000 mutated and split worker answers', () => {
    fc.assert(responseProperty, { seed: 0x22_2024, numRuns: 9_000 });
  });
});
