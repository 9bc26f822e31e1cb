/** Aligned plain-text tables for the human output of the CLI. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | boolean)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...cells.slice(1).map(line)].join('\n');
}

/** Key/value block: keys padded to one column. */
export function keyValues(pairs: readonly (readonly [string, string | number | boolean])[]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
