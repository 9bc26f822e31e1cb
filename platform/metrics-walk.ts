import {
  ARRAY_LABELS, ARRAY_SKIP_FIELDS, GAUGE_KEYS, GAUGE_MAPS, HELP, LABEL_MAPS, SKIP_PATHS, UNNAMED_MAPS,
} from './metrics-rules';

/**
 * The `status` document → metric families (Prometheus data model: a name, a type, help,
 * and samples that differ by labels). Generic over the document: the rules in
 * metrics-rules.ts say which maps are label maps and which fields are gauges.
 */
export type MetricType = 'counter' | 'gauge';
export interface Sample {
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
}
export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: Sample[];
}

/** Families by name, in first-seen order (the exposition groups every sample of a name). */
export class Families {
  private readonly byName = new Map<string, MetricFamily>();

  add(name: string, type: MetricType, help: string, labels: readonly (readonly [string, string])[], value: number): void {
    let f = this.byName.get(name);
    if (!f) this.byName.set(name, (f = { name, type, help: HELP[name] ?? help, samples: [] }));
    // A name claimed by both a counter and a gauge would be an invalid exposition; the
    // first one wins and the other is dropped rather than mislabelled.
    if (f.type !== type) return;
    f.samples.push({ labels, value });
  }

  list(): MetricFamily[] {
    return [...this.byName.values()];
  }
}

const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();

/** A field name → its name part, unit suffix and value scale (base units: seconds, bytes). */
function unitOf(key: string): { stem: string; unit: string; scale: number } {
  let m: RegExpExecArray | null;
  if ((m = /^(.*)MsAgo$/.exec(key))) return { stem: `${m[1]}Age`, unit: '_seconds', scale: 1e-3 };
  if ((m = /^(.*)Ms$/.exec(key))) return { stem: m[1]!, unit: '_seconds', scale: 1e-3 };
  if ((m = /^(.*[a-z])S$/.exec(key))) return { stem: m[1]!, unit: '_seconds', scale: 1 };
  if ((m = /^(.*)Bytes$/.exec(key)) && m[1]) return { stem: m[1], unit: '_bytes', scale: 1 };
  // `bytesIn` → `in_bytes`: the unit goes last, before `_total`.
  if ((m = /^bytes([A-Z].*)$/.exec(key))) return { stem: m[1]!, unit: '_bytes', scale: 1 };
  return { stem: key, unit: '', scale: 1 };
}

/** `relayed4` → `relayed` with family 4 (the core keeps one counter per family). */
function familyOf(key: string): { key: string; family: string | null } {
  const m = /^([a-z][A-Za-z]+?)([46])$/.exec(key);
  return m ? { key: m[1]!, family: m[2]! } : { key, family: null };
}

function matches(pattern: string, path: string): boolean {
  const p = pattern.split('.');
  const s = path.split('.');
  if (p.length > s.length) return false;
  const tail = s.slice(s.length - p.length);
  return p.every((x, i) => x === '*' || x === tail[i]);
}

const labelMapOf = (path: string): string | null => {
  for (const [pattern, label] of LABEL_MAPS) if (matches(pattern, path)) return label;
  return null;
};

interface Where {
  /** Status path with `*` for label-map keys (rules match on it). */
  readonly path: string;
  /** Name parts so far. */
  readonly name: readonly string[];
  readonly labels: readonly (readonly [string, string])[];
  /** Inside a map whose numbers are all gauges. */
  readonly gauge: boolean;
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);
/** `modules.` and `drivers.` are where things live, not what they are. */
const namePart = (path: string, key: string): string | null => (path === '' && (key === 'modules' || key === 'drivers') ? null : key);

export function statusFamilies(status: Record<string, unknown>, into = new Families()): Families {
  if (typeof status['version'] === 'string') into.add('gleand_info', 'gauge', HELP['gleand_info']!, [['version', status['version']]], 1);
  walkObject(status, { path: '', name: ['gleand'], labels: [], gauge: false }, into);
  return into;
}

function walkObject(o: Record<string, unknown>, at: Where, into: Families): void {
  const label = labelMapOf(at.path);
  // An object's own `family` field (a server's: 4 or 6) labels its siblings.
  const labels = typeof o['family'] === 'number' ? [...at.labels, ['family', String(o['family'])] as const] : at.labels;
  for (const [key, value] of Object.entries(o)) {
    if (label) {
      walkValue(value, { path: join(at.path, '*'), name: at.name, labels: [...labels, [label, key]], gauge: at.gauge }, into, null);
      continue;
    }
    if (key === 'family' && typeof value === 'number') continue;
    const path = join(at.path, key);
    if (SKIP_PATHS.has(path)) continue;
    const named = namePart(at.path, key) !== null && !(UNNAMED_MAPS.has(key) && labelMapOf(path) !== null);
    walkValue(value, { path, name: at.name, labels, gauge: at.gauge || GAUGE_MAPS.has(key) }, into, named ? key : null);
  }
}

/** `key`: the field name this value adds to the metric name (null: none). */
function walkValue(value: unknown, at: Where, into: Families, key: string | null): void {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) leaf(key, value, at, into);
    return;
  }
  if (Array.isArray(value)) {
    const labelFields = ARRAY_LABELS[at.path] ?? [];
    const name = key === null ? at.name : [...at.name, key];
    for (const el of value) {
      if (typeof el !== 'object' || el === null) continue;
      const e = el as Record<string, unknown>;
      const labels = [...at.labels, ...labelFields.filter((f) => e[f] !== undefined)
        .map((f) => [f === 'port' && typeof e[f] === 'number' ? 'udp_port' : f, String(e[f])] as const)];
      const rest = Object.fromEntries(Object.entries(e).filter(([f]) => !labelFields.includes(f) && !ARRAY_SKIP_FIELDS.has(f)));
      walkObject(rest, { path: at.path, name, labels, gauge: at.gauge }, into);
    }
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const name = key === null ? at.name : [...at.name, key];
    walkObject(value as Record<string, unknown>, { ...at, name }, into);
  }
  // strings, booleans, null: states and settings, not measurements
}

function leaf(field: string | null, value: number, at: Where, into: Families): void {
  const { key, family } = field ? familyOf(field) : { key: null, family: null };
  const { stem, unit, scale } = key ? unitOf(key) : { stem: null, unit: '', scale: 1 };
  const gauge = at.gauge || (field !== null && (GAUGE_KEYS.has(field) || GAUGE_KEYS.has(at.path)));
  // `bindings.bindings` would say it twice
  const parts = stem && stem !== at.name[at.name.length - 1] ? [...at.name, stem] : at.name;
  const base = parts.map(snake).join('_') + unit;
  const labels = family ? [...at.labels, ['family', family] as const] : at.labels;
  if (!gauge && value < 0) return; // a counter never goes below zero; a negative one is not a count
  into.add(gauge ? base : `${base}_total`, gauge ? 'gauge' : 'counter', `gleand status field ${at.path}`, labels, value * scale);
}
