import * as fs from 'node:fs';
import { parseMac } from '../src/wire/address';

/** What the platform needs to know of a network device to send and receive on it. */
export interface LinkInfo {
  readonly device: string;
  readonly ifindex: number;
  readonly mac: Uint8Array | null;
  /** A usable link-local: never one still tentative (DAD running) or whose DAD failed. */
  readonly linkLocal: Uint8Array | null;
  readonly up: boolean;
}

const readSys = (device: string, file: string): string | null => readFile(`/sys/class/net/${device}/${file}`)?.trim() ?? null;

/**
 * Device facts from sysfs and the kernel's address list; `null` when the device does not
 * exist. `inet6`: /proc/net/if_inet6 already read, when many devices are looked at at once.
 */
export function linkInfo(device: string, inet6?: string | null): LinkInfo | null {
  if (!/^[^/\0]{1,15}$/.test(device) || device === '.' || device === '..') return null;
  const ifindex = Number(readSys(device, 'ifindex'));
  if (!Number.isInteger(ifindex) || ifindex <= 0) return null;
  // An Ethernet port has a 6-octet address; anything else (a tunnel, none) is no MAC.
  const parsed = parseMac(readSys(device, 'address') ?? '');
  const mac = parsed && parsed.length === 6 ? parsed : null;
  const operstate = readSys(device, 'operstate');
  return {
    device,
    ifindex,
    mac,
    linkLocal: usableLinkLocal(ifindex, inet6),
    up: operstate === 'up' || operstate === 'unknown',
  };
}

/** ifa_flags (linux/if_addr.h) that make an address unusable as a source. */
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
/** The scope column: IPV6_ADDR_LINKLOCAL (include/net/ipv6.h), not an rt_scope_t. */
const SCOPE_LINK = 0x20;

/**
 * The device's first link-local that has passed Duplicate Address Detection, from
 * /proc/net/if_inet6 (this namespace's addresses with their flags; getifaddrs, behind
 * os.networkInterfaces, lists tentative addresses without saying so). RFC 4862 §5.4: a
 * tentative address is not used for communication — an MLD query from one (RFC 3810
 * §5.1.14) or a relay's source would be answered by an address that may belong to
 * someone else — and a DADFAILED one never will be.
 */
export function usableLinkLocal(ifindex: number, table = readInet6()): Uint8Array | null {
  // Each line: address (32 hex), ifindex, prefix length, scope, flags (hex), device name.
  for (const line of (table ?? '').split('\n')) {
    const [hex, index, , scope, flags] = line.trim().split(/\s+/);
    if (!hex || hex.length !== 32 || parseInt(index ?? '', 16) !== ifindex || parseInt(scope ?? '', 16) !== SCOPE_LINK) continue;
    if (parseInt(flags ?? '', 16) & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) continue;
    const a = new Uint8Array(16);
    for (let i = 0; i < 16; i++) a[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    if (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) return a;
  }
  return null;
}

/** This namespace's IPv6 addresses with their flags, or null. */
export const readInet6 = (): string | null => readFile('/proc/net/if_inet6');

function readFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
