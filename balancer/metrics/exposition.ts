/**
 * A writer of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format): one `# HELP` and one
 * `# TYPE` line per family, then its samples, every sample of a family in one group. Written by hand
 * rather than through prom-client's metric objects so that a scrape formats the counters the data plane
 * already keeps, and nothing on the request path calls into a metrics library.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Label values escape backslash, double quote and line feed; nothing else is special (exposition format). */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** `name="value"`, the value escaped: one label of a sample's label set. */
export function label(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

/** A sample value: Go's ParseFloat spellings, so +Inf, -Inf and NaN as Prometheus writes them. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Accumulates one exposition. Called at scrape time only. */
export class ExpositionWriter {
  private text = '';

  /** Starts a family. HELP text escapes backslash and line feed. */
  family(name: string, type: MetricType, help: string): void {
    this.text += `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
  }

  /** One sample of the family last started; `labels` is a comma-separated list made by label(), or ''. */
  sample(name: string, labels: string, value: number): void {
    this.text += labels === '' ? `${name} ${formatValue(value)}\n` : `${name}{${labels}} ${formatValue(value)}\n`;
  }

  toString(): string {
    return this.text;
  }
}
