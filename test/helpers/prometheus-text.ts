/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: it throws on anything a
 * scraper could read two ways. Every family has exactly one HELP and one TYPE line before its samples,
 * its samples form one group, a series (name and label set) appears once, names and labels are well
 * formed, label values use only the three escapes, values are Go floats, and a histogram's buckets are
 * cumulative up to an +Inf bucket equal to its _count.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A value as Prometheus reads it (Go's strconv.ParseFloat): a decimal float, or NaN and Inf in any letter
 * case, Inf with an optional sign (prom-client writes NaN as "Nan"). Our own writer uses the spellings
 * of the format's documentation, which `exact` holds it to.
 */
function parseValue(text: string, line: string, exact = false): number {
  if (exact ? text === '+Inf' : /^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (exact ? text === '-Inf' : /^-inf(inity)?$/i.test(text)) return -Infinity;
  if (exact ? text === 'NaN' : /^nan$/i.test(text)) return NaN;
  if (!FLOAT.test(text)) throw new Error(`bad sample value ${JSON.stringify(text)} in ${line}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `text` at `start` (just past the name); returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`label without = in ${line}`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`bad label name ${JSON.stringify(name)} in ${line}`);
    if (name in labels) throw new Error(`label ${name} twice in ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`label value not quoted in ${line}`);
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined) throw new Error(`unterminated label value in ${line}`);
      if (c === '"') break;
      if (c === '\\') {
        const next = text[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`bad escape \\${next} in ${line}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`expected , or } after label ${name} in ${line}`);
  }
}

/** The family a sample name belongs to: itself, or a histogram's/summary's base for _bucket, _sum, _count. */
function belongs(sample: string, family: Family): boolean {
  if (sample === family.name) return family.type !== 'histogram';
  if (family.type !== 'histogram' && family.type !== 'summary') return false;
  const suffixes = family.type === 'histogram' ? ['_bucket', '_sum', '_count'] : ['_sum', '_count'];
  return suffixes.some((s) => sample === family.name + s);
}

export function seriesKey(s: Sample): string {
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(s.labels[k])}`)
    .join(',');
  return `${s.name}{${labels}}`;
}

/** Parses a whole exposition; throws with the offending line on any violation. */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a line feed');
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: Family | undefined;
  let pendingHelp: { name: string; help: string } | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('# HELP ')) {
      const [name, ...rest] = line.slice(7).split(' ');
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in ${line}`);
      if (families.has(name) || pendingHelp !== undefined) throw new Error(`second HELP, or HELP without TYPE, for ${name}`);
      pendingHelp = { name, help: rest.join(' ') };
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, extra] = line.slice(7).split(' ');
      if (pendingHelp?.name !== name) throw new Error(`TYPE without its HELP just before: ${line}`);
      if (!TYPES.has(type) || extra !== undefined) throw new Error(`bad TYPE line: ${line}`);
      current = { name, type, help: pendingHelp.help, samples: [] };
      families.set(name, current);
      pendingHelp = undefined;
      continue;
    }
    if (line.startsWith('#')) continue; // a comment
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const nameEnd = brace >= 0 && brace < space ? brace : space;
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in ${line}`);
    const { labels, end } = brace === nameEnd ? parseLabels(line, brace, line) : { labels: {}, end: nameEnd };
    if (line[end] !== ' ') throw new Error(`expected a space before the value in ${line}`);
    const [valueText, timestamp, extra] = line.slice(end + 1).split(' ');
    if (extra !== undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new Error(`bad value or timestamp in ${line}`);
    if (current === undefined || !belongs(name, current)) throw new Error(`sample outside its family's group (or without HELP/TYPE): ${line}`);
    const sample: Sample = { name, labels, value: parseValue(valueText, line, name.startsWith('lb_')) };
    const key = seriesKey(sample);
    if (series.has(key)) throw new Error(`duplicate series ${key}`);
    series.add(key);
    current.samples.push(sample);
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** Per series (labels without le): buckets non-decreasing in le order, ending at +Inf, which equals _count; a _sum present. */
function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey({ name: '', labels: rest, value: 0 });
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith('_bucket')) group.buckets.push([parseValue(le, `le of ${family.name}`, family.name.startsWith('lb_')), s.value]);
    else if (s.name.endsWith('_sum')) group.sum = s.value;
    else group.count = s.value;
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i][1] < sorted[i - 1][1]) throw new Error(`${family.name}${key}: bucket le=${sorted[i][0]} is below le=${sorted[i - 1][0]}`);
    }
    const last = sorted[sorted.length - 1];
    if (last === undefined || last[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (g.count === undefined || g.sum === undefined) throw new Error(`${family.name}${key}: _sum or _count missing`);
    if (last[1] !== g.count) throw new Error(`${family.name}${key}: +Inf bucket ${last[1]} is not _count ${g.count}`);
  }
}

/** The samples of `name` whose labels include all of `match`. */
export function samplesOf(families: Map<string, Family>, name: string, match: Record<string, string> = {}): Sample[] {
  const out: Sample[] = [];
  for (const f of families.values()) {
    for (const s of f.samples) if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) out.push(s);
  }
  return out;
}

/** The one sample of `name` matching `match`; throws when there is none or more than one. */
export function valueOf(families: Map<string, Family>, name: string, match: Record<string, string> = {}): number {
  const found = samplesOf(families, name, match);
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(match)}`);
  return found[0].value;
}
