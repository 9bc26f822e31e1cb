/**
 * Prints (JSON, hex) the queries gleand's router builds, for capture-mcast-ours.sh to
 * put on a link in front of the Linux kernel's IGMPv3 / MLDv2 host. Run with tsx.
 */
import { IGMP, MLD } from '../../../../src/multicast/family';
import { parseIPv4, parseIPv6 } from '../../../../src/wire/address';
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const q = { maxRespMs: 1000, suppress: false, qrv: 2, qqiSec: 125 };
const out = {
  igmpGeneral: IGMP.buildQuery(parseIPv4('10.0.9.1')!, { ...q, level: 3, group: null, sources: [] }),
  igmpGroupSource: IGMP.buildQuery(parseIPv4('10.0.9.1')!, { ...q, level: 3, group: parseIPv4('232.1.1.1')!, sources: [parseIPv4('192.0.2.10')!, parseIPv4('192.0.2.99')!] }),
  mldGeneral: MLD.buildQuery(parseIPv6('fe80::ff:fe00:901')!, { ...q, level: 3, group: null, sources: [] }),
  mldGroupSource: MLD.buildQuery(parseIPv6('fe80::ff:fe00:901')!, { ...q, level: 3, group: parseIPv6('ff3e::8000:1')!, sources: [parseIPv6('2001:db8::10')!, parseIPv6('2001:db8::99')!] }),
};
process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, toHex(v)]))));
