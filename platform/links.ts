import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseIPv6, parseMac } from '../src/wire/address';

/** What the platform needs to know of a network device to send and receive on it. */
export interface LinkInfo {
  readonly device: string;
  readonly ifindex: number;
  readonly mac: Uint8Array | null;
  readonly linkLocal: Uint8Array | null;
  readonly up: boolean;
}

const readSys = (device: string, file: string): string | null => {
  try {
    return fs.readFileSync(`/sys/class/net/${device}/${file}`, 'utf8').trim();
  } catch {
    return null;
  }
};

/** Device facts from sysfs and the kernel's address list; `null` when the device does not exist. */
export function linkInfo(device: string): LinkInfo | null {
  if (!/^[^/\0]{1,15}$/.test(device) || device === '.' || device === '..') return null;
  const ifindex = Number(readSys(device, 'ifindex'));
  if (!Number.isInteger(ifindex) || ifindex <= 0) return null;
  // An Ethernet port has a 6-octet address; anything else (a tunnel, none) is no MAC.
  const parsed = parseMac(readSys(device, 'address') ?? '');
  const mac = parsed && parsed.length === 6 ? parsed : null;
  const ll = (os.networkInterfaces()[device] ?? []).find((a) => a.family === 'IPv6' && a.address.startsWith('fe80:'));
  const operstate = readSys(device, 'operstate');
  return {
    device,
    ifindex,
    mac,
    linkLocal: ll ? parseIPv6(ll.address.split('%')[0]!) : null,
    up: operstate === 'up' || operstate === 'unknown',
  };
}
