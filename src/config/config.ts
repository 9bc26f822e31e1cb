import type { UciDocument, UciSection, UciStatement } from './uci-ast';
import { parseUci } from './uci';
import {
  plannedOf, SECTION_KINDS,
  type GlobalConfig, type LeasequeryConfig, type MulticastConfig, type PagingAreaConfig, type PagingConfig,
  type PagingHostConfig, type SectionKind,
  type SectionSchema, type SubscriberConfig, type UpstreamConfig,
} from './schema';

/** The whole validated configuration every module reads. */
export interface Config {
  readonly global: GlobalConfig;
  readonly upstreams: readonly UpstreamConfig[];
  readonly subscribers: readonly SubscriberConfig[];
  readonly leasequery: LeasequeryConfig;
  readonly multicast: MulticastConfig;
  /** Dormant-host alerting (RFC 3154); `enabled` false when the file has no `paging` section. */
  readonly paging: PagingConfig;
  readonly pagingAreas: readonly PagingAreaConfig[];
  readonly pagingHosts: readonly PagingHostConfig[];
}

/** One problem, located as `file:line:column` with the section and option it concerns. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly section?: string;
  readonly option?: string;
  readonly message: string;
}

export const formatProblem = (p: ConfigProblem): string =>
  `${p.file}:${p.line}:${p.column}: ${p.section ? `${p.section}` : ''}${p.option ? `.${p.option}` : ''}${
    p.section || p.option ? ': ' : ''}${p.message}`;

/** A warning reads like a problem with `warning:` after the position, as compilers print them. */
export const formatWarning = (p: ConfigProblem): string => {
  const at = `${p.file}:${p.line}:${p.column}: `;
  return `${at}warning: ${formatProblem(p).slice(at.length)}`;
};

/**
 * `warnings` do not stop a load: today they are the options the file sets whose
 * feature is not built yet (schema `planned`), which are accepted and do nothing.
 */
export type LoadResult =
  | { ok: true; config: Config; warnings: ConfigProblem[] }
  | { ok: false; problems: ConfigProblem[]; warnings: ConfigProblem[] };

/** A section's display name as `uci show` prints it: `wan` or `@subscriber[0]`. */
function sectionLabel(s: UciSection, indexOfType: number): string {
  return s.name ?? `@${s.type}[${indexOfType}]`;
}

/** Step 1 — defaults: every option of the schema at its default. */
function defaults(schema: SectionSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) {
    out[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return out;
}

/** Step 2 — parse: apply one section's statements over the defaults, type-checking each value. */
function applySection(
  kind: SectionKind, section: UciSection, label: string, file: string, problems: ConfigProblem[],
  warnings: ConfigProblem[],
): Record<string, unknown> {
  const values = defaults(kind.schema);
  const seenList = new Set<string>();
  const problem = (st: UciStatement | null, message: string) =>
    problems.push({
      file, line: (st ?? section).pos.line, column: (st ?? section).pos.column,
      section: label, ...(st ? { option: st.name } : {}), message,
    });
  for (const st of section.statements) {
    const spec = kind.schema[st.name];
    if (!spec) {
      problem(st, `unknown option for a '${kind.type}' section`);
      continue;
    }
    if (st.kind === 'list' && !spec.list) {
      problem(st, `'${st.name}' takes one value: use 'option', not 'list'`);
      continue;
    }
    const parsed = spec.type.parse(st.value);
    if (!parsed.ok) {
      problem(st, parsed.error);
      continue;
    }
    const why = plannedOf(kind, st.name);
    if (why !== undefined) {
      warnings.push({
        file, line: st.pos.line, column: st.pos.column, section: label, option: st.name,
        message: `not built yet (${why}); accepted and ignored`,
      });
    }
    if (spec.list) {
      // The first statement replaces the default list; later ones append (libuci list semantics).
      if (!seenList.has(st.name)) values[st.name] = [];
      seenList.add(st.name);
      (values[st.name] as unknown[]).push(parsed.value);
    } else {
      values[st.name] = parsed.value; // libuci: a repeated option overwrites the earlier one.
    }
  }
  if (kind.planned !== undefined && section.statements.length === 0) {
    // An empty section of a feature not built yet still reads as if it were on.
    warnings.push({
      file, line: section.pos.line, column: section.pos.column, section: label,
      message: `not built yet (${kind.planned}); this section is accepted and ignored`,
    });
  }
  for (const [name, spec] of Object.entries(kind.schema)) {
    if (spec.required && !section.statements.some((st) => st.name === name)) {
      problem(null, `option '${name}' is required`);
    }
  }
  return values;
}

interface Located<T> { readonly value: T; readonly section: UciSection; readonly label: string }

/** Defaults → parse → finish. Returns every problem found; never a half-valid config. */
export function loadConfig(text: string, file: string): LoadResult {
  const { doc, errors } = parseUci(text);
  const problems: ConfigProblem[] = errors.map((e) => ({
    file, line: e.pos.line, column: e.pos.column, message: e.message,
  }));
  const warnings: ConfigProblem[] = [];
  const collected = collect(doc, file, problems, warnings);
  finish(collected, file, problems);
  if (problems.length > 0) return { ok: false, problems, warnings };
  return { ok: true, config: toConfig(collected), warnings };
}

type Collected = Map<string, Located<Record<string, unknown>>[]>;

function collect(doc: UciDocument, file: string, problems: ConfigProblem[], warnings: ConfigProblem[]): Collected {
  const byType: Collected = new Map(SECTION_KINDS.map((k) => [k.type, []]));
  const countOfType = new Map<string, number>();
  const names = new Map<string, UciSection>();
  for (const section of doc.sections) {
    const index = countOfType.get(section.type) ?? 0;
    countOfType.set(section.type, index + 1);
    const label = sectionLabel(section, index);
    const at = { file, line: section.pos.line, column: section.pos.column, section: label };
    const kind = SECTION_KINDS.find((k) => k.type === section.type);
    if (!kind) {
      problems.push({ ...at, message: `unknown section type '${section.type}' (known: ${SECTION_KINDS.map((k) => k.type).join(', ')})` });
      continue;
    }
    if (section.name !== null) {
      const earlier = names.get(section.name);
      // libuci would silently merge two sections of one name; for a router config that is a mistake.
      if (earlier) problems.push({ ...at, message: `section name '${section.name}' is already used at line ${earlier.pos.line}` });
      names.set(section.name, section);
    }
    const list = byType.get(kind.type)!;
    if (kind.cardinality === 'single' && list.length > 0) {
      problems.push({ ...at, message: `only one '${kind.type}' section is allowed (first at line ${list[0]!.section.pos.line})` });
      continue;
    }
    if (kind.cardinality === 'named' && section.name === null) {
      problems.push({ ...at, message: `a '${kind.type}' section needs a name: config ${kind.type} 'NAME'` });
      continue;
    }
    list.push({ value: applySection(kind, section, label, file, problems, warnings), section, label });
  }
  return byType;
}

/** Step 3 — finish: cross-field and cross-section checks. */
function finish(c: Collected, file: string, problems: ConfigProblem[]): void {
  const upstreams = c.get('upstream')!;
  const upstreamNames = new Set(upstreams.map((u) => u.label));
  const devices = new Map<string, string>();
  const at = (l: Located<unknown>, option?: string) => {
    const st = option ? l.section.statements.find((s) => s.name === option) : undefined;
    const pos = (st ?? l.section).pos;
    return { file, line: pos.line, column: pos.column, section: l.label, ...(option ? { option } : {}) };
  };
  const claimDevice = (l: Located<Record<string, unknown>>) => {
    const device = l.value['device'] as string | undefined;
    if (device === undefined) return;
    const other = devices.get(device);
    if (other) problems.push({ ...at(l, 'device'), message: `device '${device}' is already used by section '${other}'` });
    else devices.set(device, l.label);
  };
  upstreams.forEach(claimDevice);
  for (const s of c.get('subscriber')!) {
    claimDevice(s);
    const v = s.value;
    const up = v['upstream'] as string | undefined;
    if (up !== undefined && !upstreamNames.has(up)) {
      problems.push({ ...at(s, 'upstream'), message: `no 'upstream' section named '${up}'` });
    }
    if (v['on_demand']) {
      // Per family: RFC 4388 §6.2 ciaddr restriction (only addresses inside the port's
      // subnet4 / subnet6 are asked about), and gleand must relay that family itself — v4
      // answers come back to its giaddr:67, v6 answers name its Interface-ID (RFC 5007 §4.1.2.4).
      const v4 = Boolean(v['relay_v4']) && (v['subnet4'] as unknown[]).length > 0;
      const v6 = Boolean(v['relay_v6']) && (v['subnet6'] as unknown[]).length > 0;
      if (v['mode'] !== 'relay') {
        problems.push({ ...at(s, 'on_demand'), message: 'needs mode relay: leasequery answers come back to where gleand relays itself' });
      } else if (!v4 && !v6) {
        problems.push({ ...at(s, 'on_demand'),
          message: 'needs relay_v4 with subnet4 or relay_v6 with subnet6: only addresses inside them are looked up (RFC 4388 §6.2, RFC 5007)' });
      }
    }
    if (v['mode'] !== 'relay') continue;
    const has = (name: string) => s.section.statements.some((st) => st.name === name);
    // `has`: a present but invalid value was already reported; don't report it twice.
    if (v['relay_v4'] && !has('giaddr')) {
      problems.push({ ...at(s), option: 'giaddr', message: 'required when relay_v4 is on in relay mode (RFC 2131 §4.1)' });
    }
    if (v['relay_v6'] && !has('link_address')) {
      problems.push({ ...at(s), option: 'link_address', message: 'required when relay_v6 is on in relay mode (RFC 8415 §19.1.1)' });
    }
    const upstream = upstreams.find((u) => u.label === up);
    if (upstream && v['relay_v4'] && (upstream.value['dhcpv4_server'] as unknown[]).length === 0) {
      problems.push({ ...at(s, 'relay_v4'), message: `upstream '${up}' has no dhcpv4_server to relay to` });
    }
  }
  const mc = c.get('multicast')![0];
  if (mc && mc.value['enabled']) {
    const up = mc.value['upstream'] as string | undefined;
    if (up === undefined) problems.push({ ...at(mc), option: 'upstream', message: 'required when multicast is enabled' });
    else if (!upstreamNames.has(up)) problems.push({ ...at(mc, 'upstream'), message: `no 'upstream' section named '${up}'` });
    // RFC 3376 §8.3: the Query Response Interval must be less than the Query Interval.
    if ((mc.value['query_response_interval'] as number) >= (mc.value['query_interval'] as number) * 10) {
      problems.push({ ...at(mc, 'query_response_interval'), message: 'must be less than query_interval (RFC 3376 §8.3)' });
    }
  }
  finishPaging(c, at, problems);
}

type At = (l: Located<unknown>, option?: string) => Omit<ConfigProblem, 'message'>;

/** Paging (RFC 3154): areas name subscriber ports, hosts name areas and ports, every key is long enough. */
function finishPaging(c: Collected, at: At, problems: ConfigProblem[]): void {
  const subscribers = new Set(c.get('subscriber')!.map((s) => s.label));
  const areas = new Set(c.get('paging_area')!.map((a) => a.label));
  const paging = c.get('paging')![0];
  // HMAC-SHA-256 keys shorter than 16 octets are guessable offline (RFC 2104 §3: at least L/2 is sensible).
  const shortKey = (l: Located<Record<string, unknown>>, option: string) => {
    const k = l.value[option] as Uint8Array | undefined;
    if (k !== undefined && k.length < 16) problems.push({ ...at(l, option), message: `a key needs at least 16 octets, this one has ${k.length}` });
  };
  if (paging) shortKey(paging, 'key_master');
  const ports = (l: Located<Record<string, unknown>>) => {
    for (const p of l.value['port'] as string[]) {
      if (!subscribers.has(p)) problems.push({ ...at(l, 'port'), message: `no 'subscriber' section named '${p}'` });
    }
  };
  for (const a of c.get('paging_area')!) {
    shortKey(a, 'key');
    ports(a);
    if ((a.value['port'] as string[]).length === 0) problems.push({ ...at(a), option: 'port', message: 'a paging area needs at least one port' });
  }
  for (const h of c.get('paging_host')!) {
    shortKey(h, 'key');
    ports(h);
    const area = h.value['area'] as string | undefined;
    if (area !== undefined && !areas.has(area)) problems.push({ ...at(h, 'area'), message: `no 'paging_area' section named '${area}'` });
    if (h.value['key'] === undefined && paging?.value['key_master'] === undefined) {
      problems.push({ ...at(h), option: 'key', message: 'needs a key, or key_master in the paging section' });
    }
  }
}

function toConfig(c: Collected): Config {
  const single = <T>(type: string): T => {
    const found = c.get(type)![0];
    const kind = SECTION_KINDS.find((k) => k.type === type)!;
    return (found ? found.value : defaults(kind.schema)) as T;
  };
  const named = <T>(type: string): T[] => c.get(type)!.map((l) => ({ ...l.value, name: l.label }) as T);
  return {
    global: single<GlobalConfig>('global'),
    upstreams: named<UpstreamConfig>('upstream'),
    subscribers: named<SubscriberConfig>('subscriber'),
    leasequery: single<LeasequeryConfig>('leasequery'),
    multicast: single<MulticastConfig>('multicast'),
    paging: single<PagingConfig>('paging'),
    pagingAreas: named<PagingAreaConfig>('paging_area'),
    pagingHosts: named<PagingHostConfig>('paging_host'),
  };
}
