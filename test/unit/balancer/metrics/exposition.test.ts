import { escapeLabelValue, ExpositionWriter, formatValue, label } from '../../../../balancer/metrics/exposition';
import { parseExposition, valueOf } from '../../../helpers/prometheus-text';

describe('the exposition writer', () => {
  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    expect(escapeLabelValue('plain name-1.2')).toBe('plain name-1.2');
    expect(escapeLabelValue('a\\b"c\nd\te')).toBe('a\\\\b\\"c\\nd\te');
    expect(label('worker', 'x"y')).toBe('worker="x\\"y"');
  });

  it('writes the special values as the format spells them', () => {
    expect([Infinity, -Infinity, NaN, 0, 1.5, 2e-7].map(formatValue)).toEqual(['+Inf', '-Inf', 'NaN', '0', '1.5', '2e-7']);
  });

  it('writes what a strict reader reads back, a hostile worker name included', () => {
    const name = 'evil"} 1\nlb_fake 2 \\';
    const out = new ExpositionWriter();
    out.family('lb_test_total', 'counter', 'A help text with a \\ and a\nline feed.');
    out.sample('lb_test_total', `${label('worker', name)},${label('class', '2xx')}`, 3);
    out.family('lb_test_gauge', 'gauge', 'No labels.');
    out.sample('lb_test_gauge', '', 7);
    const families = parseExposition(out.toString());
    expect([...families.keys()]).toEqual(['lb_test_total', 'lb_test_gauge']);
    expect(families.get('lb_test_total')!.help).toBe('A help text with a \\\\ and a\\nline feed.');
    expect(valueOf(families, 'lb_test_total', { worker: name, class: '2xx' })).toBe(3);
    expect(valueOf(families, 'lb_test_gauge')).toBe(7);
  });
});

describe('the strict reader used by the metrics tests', () => {
  const head = '# HELP m_total h\n# TYPE m_total counter\n';
  it.each([
    ['a sample without HELP and TYPE', 'm_total 1\n'],
    ['a duplicate series', `${head}m_total{a="1"} 1\nm_total{a="1"} 2\n`],
    ['a family split in two groups', `${head}m_total 1\n# HELP g h\n# TYPE g gauge\ng 1\nm_total{a="2"} 1\n`],
    ['an unknown escape', `${head}m_total{a="\\t"} 1\n`],
    ['a bad value', `${head}m_total one\n`],
    ['no final line feed', `${head}m_total 1`],
    ['a histogram whose buckets are not cumulative', '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a histogram whose +Inf bucket is not its count', '# HELP h h\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it('reads a well-formed histogram', () => {
    const families = parseExposition('# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n');
    expect(valueOf(families, 'h_count')).toBe(2);
  });
});
