import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startBalancer, startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';
import { parseExposition, type Sample } from '../helpers/prometheus-text';

/**
 * docs/alerts.yml, the example Prometheus rules, against a real scrape: every lb_ series it selects
 * exists under that name, with the labels it matches on and the values it matches, and every label it
 * aggregates by (but `instance`, which Prometheus adds) is one of those series' labels. A rename in the
 * metrics that the rules did not follow fails here.
 */

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const rules = (parse(readFileSync(join(__dirname, '..', '..', 'docs', 'alerts.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

const running: RunningProcess[] = [];
let samples: Sample[] = [];

beforeAll(async () => {
  const balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0' });
  running.push(balancer);
  const worker = await startWorker('alpha', balancer);
  running.push(worker);
  await waitForWorkers(balancer, [worker.url]);
  await (await fetch(`${balancer.url}/`)).arrayBuffer();
  const res = await fetch(`${await balancer.adminUrl()}/metrics`);
  samples = [...parseExposition(await res.text()).values()].flatMap((f) => f.samples);
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

/** Each `lb_name{matchers}` in a PromQL expression, with its matchers as [label, operator, value]. */
function selectors(expr: string): { name: string; matchers: [string, string, string][] }[] {
  return [...expr.matchAll(/\b(lb_[a-zA-Z0-9_]+)(?:\{([^}]*)\})?/g)].map((m) => ({
    name: m[1],
    matchers: (m[2] ?? '')
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => {
        const parts = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$/.exec(s);
        if (parts === null) throw new Error(`unreadable matcher ${s}`);
        return [parts[1], parts[2], parts[3]];
      }),
  }));
}

describe('docs/alerts.yml', () => {
  it('has the alerts the README promises, each with a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(typeof rule.expr).toBe('string');
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(0);
    }
    const exprs = rules.map((r) => r.expr).join('\n');
    for (const needed of ['lb_workers_in_rotation', 'lb_worker_state{state="ejected"}', 'lb_gateway_answers_total', 'histogram_quantile(0.99']) {
      expect(exprs).toContain(needed);
    }
  });

  it.each(rules.map((r) => [r.alert, r.expr]))('%s selects only series a real scrape has', (_alert, expr) => {
    const found = selectors(expr);
    expect(found.length).toBeGreaterThan(0);
    const labelsSeen = new Set<string>();
    for (const { name, matchers } of found) {
      const series = samples.filter((s) => s.name === name);
      expect({ name, found: series.length > 0 }).toEqual({ name, found: true });
      for (const s of series) for (const l of Object.keys(s.labels)) labelsSeen.add(l);
      for (const [label, op, value] of matchers) {
        const values = series.map((s) => s.labels[label]).filter((v) => v !== undefined);
        expect({ name, label, present: values.length > 0 }).toEqual({ name, label, present: true });
        const re = new RegExp(`^(?:${value})$`);
        if (op === '=' || op === '=~')
          expect({ name, label, value, matches: values.some((v) => (op === '=' ? v === value : re.test(v))) }).toMatchObject({ matches: true });
      }
    }
    for (const by of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
      for (const label of by[1].split(',').map((l) => l.trim()))
        if (label !== 'instance') expect({ label, seen: labelsSeen.has(label) }).toEqual({ label, seen: true });
    }
  });
});
