import { parseInstructionArgs } from '../../../bench/callgrind/options';

/** The --processes option of `npm run bench:instructions`: what PROCESSES the measured balancer runs with. */
describe('parseInstructionArgs --processes', () => {
  it('measures a single process unless told otherwise', () => {
    expect(parseInstructionArgs([]).processes).toBe(1);
  });

  it('takes a positive integer, next to the other options', () => {
    const opts = parseInstructionArgs(['--processes', '2', '--rounds', '5']);
    expect(opts.processes).toBe(2);
    expect(opts.rounds).toBe(5);
  });

  it.each([['0'], ['-1'], ['1.5'], ['two']])('refuses %s, naming the flag', (value) => {
    expect(() => parseInstructionArgs(['--processes', value])).toThrow(`--processes expects a positive integer, got ${value}`);
  });

  it('refuses a missing value', () => {
    expect(() => parseInstructionArgs(['--processes'])).toThrow('--processes expects a positive integer, got (nothing)');
  });

  it('never writes a serving process count over the single-process baseline', () => {
    expect(() => parseInstructionArgs(['--processes', '2', '--update-baseline'])).toThrow(/--update-baseline .* not with --processes > 1/);
    expect(parseInstructionArgs(['--processes', '1', '--update-baseline']).updateBaseline).toBe(true);
  });
});
