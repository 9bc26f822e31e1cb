/** The paging sections of the UCI schema: cross-checks (finish), and that none is marked planned any more. */
import { describe, expect, it } from 'vitest';
import { formatProblem, formatWarning, loadConfig } from '../../../src/config/config';
import { plannedOf, SECTION_KINDS } from '../../../src/config/schema';
import { pagingConfig } from './kit';

const problems = (text: string) => {
  const r = loadConfig(text, 't');
  return r.ok ? [] : r.problems.map(formatProblem);
};

describe('config: paging sections', () => {
  it('the test configuration loads, with areas and hosts typed', () => {
    const r = loadConfig(pagingConfig(), 't');
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
    expect(r.config.paging).toMatchObject({ enabled: true, port: 3154, pages_max: 3, held_per_host: 4 });
    expect(r.config.pagingAreas.map((a) => [a.name, a.port])).toEqual([['lobby', ['lan1', 'lan2']]]);
    expect(r.config.pagingHosts.map((h) => [h.name, h.port, h.area])).toEqual([['printer', ['lan3'], undefined]]);
  });

  it('without a paging section, paging is off and there are no areas or hosts', () => {
    const r = loadConfig(pagingConfig().replace(/config paging\n[\s\S]*?(?=\nconfig paging_area)/, ''), 't');
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
    expect(r.config.paging.enabled).toBe(false);
  });

  it('areas and hosts must name existing ports and areas; keys are at least 16 octets; a host needs a key', () => {
    const text = `
config upstream 'wan'
	option device 'eth0'
config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option mode 'passive'
config paging
	option enabled '1'
config paging_area 'a1'
	list port 'lan9'
	option key '0011'
config paging_area 'a2'
	option key '00112233445566778899aabbccddeeff'
config paging_host 'h1'
	option area 'a9'
`;
    expect(problems(text)).toEqual([
      "t:12:2: a1.key: a key needs at least 16 octets, this one has 2",
      "t:11:2: a1.port: no 'subscriber' section named 'lan9'",
      "t:13:1: a2.port: a paging area needs at least one port",
      "t:16:2: h1.area: no 'paging_area' section named 'a9'",
      "t:15:1: h1.key: needs a key, or key_master in the paging section",
    ]);
  });

  it('no paging option is marked not built yet (issue 11: socket, divert and sends are built), and a paging file loads without a warning', () => {
    for (const type of ['paging', 'paging_area', 'paging_host']) {
      const kind = SECTION_KINDS.find((k) => k.type === type)!;
      for (const option of Object.keys(kind.schema)) expect(plannedOf(kind, option), `${type}.${option}`).toBeUndefined();
    }
    const r = loadConfig(pagingConfig(), 't');
    expect(r.warnings.map(formatWarning)).toEqual([]);
  });

});
