import type { MetricFamily } from './metrics-walk';

/**
 * The Prometheus text exposition format (version 0.0.4): per family a `# HELP` and a
 * `# TYPE` line, then one line per sample, `name{label="value",...} value`. Label
 * values escape backslash, double quote and newline; help text escapes backslash and
 * newline (the format's only escapes).
 */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
/** Label names are [a-zA-Z_][a-zA-Z0-9_]*. */
const labelName = (n: string): string => n.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([0-9])/, '_$1');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** One family's lines (HELP, TYPE, samples), each ending in a newline. */
export function formatFamily(f: MetricFamily): string {
  let out = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  for (const s of f.samples) {
    const labels = s.labels.length === 0 ? '' : `{${s.labels.map(([k, v]) => `${labelName(k)}="${escapeLabel(v)}"`).join(',')}}`;
    out += `${f.name}${labels} ${formatValue(s.value)}\n`;
  }
  return out;
}

export function formatExposition(families: readonly MetricFamily[]): string {
  return families.filter((f) => f.samples.length > 0).map(formatFamily).join('');
}
