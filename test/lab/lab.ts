/**
 * The lab: network-namespace topologies with real third-party DHCP peers, for e2e tests and
 * the `npm run lab` demo.
 *
 *   server ns ──(<p>-srv)───(<p>-wan)── router ns ──(<p>-pN)───(eth0)── subscriber ns N
 *   dhcpd -4, dhcpd -6                   gleand / dhcrelay            dhclient / udhcpc / dhcpcd
 *
 * Every name carries a per-run prefix (`gl` + 4 hex) so that two labs can run at once; all
 * files live in /tmp/<prefix>/. Every process is started by PID (foreground daemons) and
 * killed by PID at teardown; nothing is ever looked up by name.
 *
 * Importable from vitest and from tsx (CommonJS); needs root and `ip netns`.
 */
import { execFile, execFileSync, spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DHCPD6_RECORD_RELAY } from './bulk-leases';
import { until } from './wait';

// ───────────────────────────── packages ─────────────────────────────

/** Debian packages the lab needs (also used by .ci/run). */
export const LAB_DEBS: readonly string[] = [
  'iproute2',
  'iputils-ping',
  'isc-dhcp-server',
  'isc-dhcp-client',
  'isc-dhcp-relay',
  'udhcpc',
  'dhcpcd-base',
  'tshark',
  'nftables',
  'python3-scapy',
  'ethtool',
  // the load test's generator and sink (test/bench/dhcpgen.c, dhcpsink.c) are built with cc
  'gcc',
  'libc6-dev',
  // promtool, the metrics test's judge of the exposition format (19 MB download, 96 MB
  // installed; it also brings the Prometheus server, which systemd hosts start on :9090)
  'prometheus',
  // the firmware tests: busybox is /bin/sh in the installed package's root; the cross
  // compilers build the native addons for router CPUs (test/unit/firmware/)
  'busybox',
  'g++-mips-linux-gnu',
  'g++-mipsel-linux-gnu',
  'g++-arm-linux-gnueabihf',
  'g++-aarch64-linux-gnu',
  // the big-endian proof (test/unit/byteorder/): the kernel's MIPS UAPI headers (also a
  // dependency of g++-mips-linux-gnu) and qemu-mips-static to run the oracle built with them
  'linux-libc-dev-mips-cross',
  'qemu-user-static',
  // the test image (build/firmware.mjs) and its boot test
  'qemu-system-x86',
  'squashfs-tools',
  'e2fsprogs',
  // the reference of the multicast join benchmark: the kernel forwarding static (S, G) entries
  'smcroute',
];

/** Binary (absolute path) → Debian package that provides it. */
export const LAB_BINARIES: Readonly<Record<string, string>> = {
  '/usr/sbin/ip': 'iproute2',
  '/usr/bin/ping': 'iputils-ping',
  '/usr/sbin/dhcpd': 'isc-dhcp-server',
  '/usr/sbin/dhclient': 'isc-dhcp-client',
  '/usr/sbin/dhcrelay': 'isc-dhcp-relay',
  '/usr/sbin/udhcpc': 'udhcpc',
  '/usr/sbin/dhcpcd': 'dhcpcd-base',
  '/usr/bin/tshark': 'tshark',
  '/usr/sbin/nft': 'nftables',
  '/usr/bin/python3': 'python3-scapy',
  '/usr/sbin/ethtool': 'ethtool',
  '/usr/bin/cc': 'gcc',
  '/usr/include/stdio.h': 'libc6-dev',
  '/usr/bin/promtool': 'prometheus',
  '/usr/bin/busybox': 'busybox',
  '/usr/bin/mips-linux-gnu-g++': 'g++-mips-linux-gnu',
  '/usr/bin/mipsel-linux-gnu-g++': 'g++-mipsel-linux-gnu',
  '/usr/bin/arm-linux-gnueabihf-g++': 'g++-arm-linux-gnueabihf',
  '/usr/bin/aarch64-linux-gnu-g++': 'g++-aarch64-linux-gnu',
  '/usr/mips-linux-gnu/include/linux/mroute6.h': 'linux-libc-dev-mips-cross',
  '/usr/bin/qemu-mips-static': 'qemu-user-static',
  '/usr/bin/qemu-system-x86_64': 'qemu-system-x86',
  '/usr/bin/mksquashfs': 'squashfs-tools',
  '/usr/sbin/mkfs.ext4': 'e2fsprogs',
  '/usr/sbin/smcrouted': 'smcroute',
};

function binaryPresent(bin: string): boolean {
  // usrmerge: /sbin → /usr/sbin, but check both in case of a non-merged system.
  const alt = bin.replace(/^\/usr/, '');
  return fs.existsSync(bin) || fs.existsSync(alt);
}

/** Which lab binaries (or scapy) are missing, as their Debian packages. */
export function missingLabPackages(): string[] {
  const missing = new Set<string>();
  for (const [bin, deb] of Object.entries(LAB_BINARIES)) if (!binaryPresent(bin)) missing.add(deb);
  if (binaryPresent('/usr/bin/python3')) {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import scapy'], { stdio: 'ignore' });
    } catch {
      missing.add('python3-scapy');
    }
  }
  return [...missing];
}

/**
 * Installs the lab's Debian packages when any binary is missing (apt-get update, then
 * apt-get install -y --no-install-recommends LAB_DEBS, non-interactive, wireshark-common
 * preseeded not to install dumpcap setuid). Returns the packages that were missing.
 */
export function ensureLabPackages(log: (msg: string) => void = (m) => console.error(m)): string[] {
  const missing = missingLabPackages();
  if (missing.length === 0) return [];
  log(`lab: missing ${missing.join(', ')}; installing ${LAB_DEBS.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('debconf-set-selections', [], {
    input: 'wireshark-common wireshark-common/install-setuid boolean false\n',
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...LAB_DEBS], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
  const still = missingLabPackages();
  if (still.length > 0) throw new Error(`lab: still missing after apt-get install: ${still.join(', ')}`);
  return missing;
}

/** Throws (loudly) unless we are root and can create a network namespace. */
export function requireRootAndNetns(): void {
  const uid = process.getuid?.();
  if (uid !== 0) {
    throw new Error(
      `LAB PREFLIGHT FAILED: the lab needs root (uid is ${String(uid)}). ` +
        'It creates network namespaces and runs DHCP daemons; run the e2e tests as root.',
    );
  }
  const probe = `glpf${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(
      `LAB PREFLIGHT FAILED: 'ip netns add' does not work here: ${err.stderr?.toString().trim() || err.message}`,
    );
  }
  try {
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
  } catch {
    /* best effort */
  }
}

// ───────────────────────────── types ─────────────────────────────

export interface LabServer {
  ns: string;
  dev: string;
  ipv4: string; // 10.0.0.2
  ipv6: string; // fd00::2
  dhcpd4ConfPath: string;
  dhcpd6ConfPath: string;
  dhcpd4LeasesPath: string;
  dhcpd6LeasesPath: string;
}

export interface LabRouter {
  ns: string;
  upstreamDev: string;
  ipv4: string; // 10.0.0.1 (upstream)
  ipv6: string; // fd00::1 (upstream)
  gateway4: string; // 10.1.0.1 on lo (giaddr)
  gateway6: string; // fd00:1::1 on lo (link-address)
}

export interface LabSubscriber {
  index: number;
  name: string; // sub0 … (also the UCI section name)
  ns: string;
  dev: 'eth0';
  mac: string; // eth0's MAC, 02:00:00:00:01:<index+1>
  routerDev: string; // router-side veth (unnumbered)
  routerMac: string;
}

/** A second station on a subscriber's port (`Lab.addStation`): its own namespace, its own MAC. */
export interface LabStation {
  ns: string;
  dev: 'eth0';
  mac: string; // 02:00:00:00:02:<subscriber index+1>
  subscriber: LabSubscriber;
}

export interface LabAddressing {
  upstream4: string; // 10.0.0.0/24
  upstream6: string; // fd00::/64
  pool4: string; // 10.1.0.0/24
  pool6: string; // fd00:1::/64
  range4: [string, string];
  range6: [string, string];
  delegated: string; // 2001:db8:100::/40
  pdRange: [string, string];
  pdLength: number; // 56
}

export interface LabInfo {
  prefix: string;
  dir: string;
  server: LabServer;
  router: LabRouter;
  subscribers: LabSubscriber[];
  addressing: LabAddressing;
}

export interface LabOptions {
  subscribers?: number; // default 1
  prefix?: string; // default gl + 4 random hex chars
  /** dhcpd ping-check before offering (default false: offers at once). */
  pingCheck?: boolean;
  /** dhcpd default-lease-time in seconds, v4 and v6 (default 600): short leases renew often. */
  leaseTime?: number;
  /**
   * dhcpd -6 gives clients its Server Unicast option (RFC 8415 §21.12) and dhclient -6
   * asks for it, so they renew by unicast to fd00::2, not through the relay (default false).
   */
  dhcp6Unicast?: boolean;
  /** Start dhcpd -4 and dhcpd -6 during createLab (default true). */
  startServers?: boolean;
  log?: (msg: string) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface LabProcess {
  name: string;
  ns: string | null;
  argv: string[];
  pid: number;
  logPath: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  log(): string;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export type ClientKind =
  | 'dhclient4'
  | 'dhclient6' // IA_NA
  | 'dhclient6pd' // IA_PD only (-P)
  | 'dhclient6napd' // IA_NA + IA_PD (-N -P)
  | 'udhcpc'
  | 'dhcpcd4'
  | 'dhcpcd6' // IA_NA
  | 'dhcpcd'; // v4 + v6 IA_NA in one process

export interface LeaseFacts {
  family: 4 | 6;
  reason: string;
  time: number;
  address?: string;
  prefixLength?: number;
  router?: string;
  leaseTime?: number;
  server?: string;
  delegatedPrefix?: string; // "2001:db8:100:100::/56"
  raw: Record<string, string>;
}

export interface LabClient {
  kind: ClientKind;
  name: string;
  subscriber: LabSubscriber;
  families: (4 | 6)[];
  proc: LabProcess;
  /** The facts of the current lease of this family, or null. */
  lease(family: 4 | 6): LeaseFacts | null;
  /** Polls until the client holds a lease (and the address is on eth0), or throws with its log. */
  waitLease(family?: 4 | 6, timeoutMs?: number): Promise<LeaseFacts>;
  /** What the `onBound` command did at the first bind of this family; null if it has not run. */
  onBound(family: 4 | 6): { code: number; output: string } | null;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ClientOptions {
  /**
   * A shell command the client script runs once per family, at the first bind, right
   * after it put the address (and routes) on eth0 and before it records the lease: the
   * client's first packet from its new source, with no test-side delay in between.
   * Its exit code and output are read back with `LabClient.onBound`.
   */
  onBound?: string;
  /** Another device of the subscriber's namespace (a macvlan with a MAC of its own: one more client on the link). */
  dev?: string;
}

export interface Capture {
  pcapPath: string;
  stop(): Promise<string>;
}

export interface GleandHandle {
  pid: number;
  configPath: string;
  logPath: string;
  proc: LabProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves once the daemon logged that it runs (config applied, sockets open). */
  ready(): Promise<void>;
}

export interface DhcrelayHandle {
  v4: LabProcess | null;
  v6: LabProcess | null;
  stop(): Promise<void>;
}

// ───────────────────────────── helpers ─────────────────────────────

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function repoRoot(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  let dir = path.resolve(here);
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'gleand') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(here, '..', '..');
    dir = up;
  }
}

export const REPO_ROOT = repoRoot();
export const GLEAND_BUNDLE = path.join(REPO_ROOT, 'build', 'out', 'gleand.js');

function run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = execFile(
      cmd!,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

function tail(file: string, lines = 40): string {
  try {
    const all = fs.readFileSync(file, 'utf8').split('\n');
    return all.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function maskToLen(mask: string): number {
  return mask
    .split('.')
    .map((o) => Number(o).toString(2).split('1').length - 1)
    .reduce((a, b) => a + b, 0);
}

function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Normalises the environment a client script saw into LeaseFacts. */
export function leaseFactsFromEnv(kind: ClientKind, family: 4 | 6, raw: Record<string, string>): LeaseFacts {
  const facts: LeaseFacts = {
    family,
    reason: raw['lab_event'] ?? raw['reason'] ?? '',
    time: num(raw['lab_time']) ?? 0,
    raw,
  };
  const set = <K extends keyof LeaseFacts>(k: K, v: LeaseFacts[K] | undefined): void => {
    if (v !== undefined && v !== '') facts[k] = v;
  };
  if (kind === 'udhcpc') {
    set('address', raw['ip']);
    set('prefixLength', num(raw['mask']) ?? (raw['subnet'] ? maskToLen(raw['subnet']) : undefined));
    set('router', raw['router']?.split(' ')[0]);
    set('leaseTime', num(raw['lease']));
    set('server', raw['serverid']);
  } else if (kind.startsWith('dhclient')) {
    if (family === 4) {
      set('address', raw['new_ip_address']);
      set('prefixLength', raw['new_subnet_mask'] ? maskToLen(raw['new_subnet_mask']) : undefined);
      set('router', raw['new_routers']?.split(' ')[0]);
      set('leaseTime', num(raw['new_dhcp_lease_time']));
      set('server', raw['new_dhcp_server_identifier']);
    } else {
      set('address', raw['new_ip6_address']);
      set('prefixLength', num(raw['new_ip6_prefixlen']));
      set('delegatedPrefix', raw['new_ip6_prefix']);
      set('leaseTime', num(raw['new_max_life']));
      set('server', raw['new_dhcp6_server_id']);
    }
  } else {
    // dhcpcd
    if (family === 4) {
      set('address', raw['new_ip_address']);
      set('prefixLength', num(raw['new_subnet_cidr']));
      set('router', raw['new_routers']?.split(' ')[0]);
      set('leaseTime', num(raw['new_dhcp_lease_time']));
      set('server', raw['new_dhcp_server_identifier']);
    } else {
      set('address', raw['new_dhcp6_ia_na1_ia_addr1']);
      if (raw['new_dhcp6_ia_na1_ia_addr1']) set('prefixLength', 128);
      set('leaseTime', num(raw['new_dhcp6_ia_na1_ia_addr1_vltime']));
      if (raw['new_dhcp6_ia_pd1_prefix1'])
        set('delegatedPrefix', `${raw['new_dhcp6_ia_pd1_prefix1']}/${raw['new_dhcp6_ia_pd1_prefix1_length'] ?? ''}`);
      set('server', raw['new_dhcp6_server_id']);
    }
  }
  return facts;
}

// The client scripts: never the distribution's (they rewrite the host's resolv.conf and
// hostname). Each writes every variable it was given to <out>.lease4|6 on a bound-type event
// (removes it when the lease is lost) and appends the event to <out>.events.
function clientScript(kind: ClientKind, out: string, onBound?: string): string {
  const head = `#!/bin/sh
# generated by gleand's test lab for ${kind}; applies the lease to the interface and
# records the lease facts for the tests. Never touches /etc.
OUT='${out}'
PATH=/usr/sbin:/usr/bin:/sbin:/bin
ev="\${reason:-$1}"
case "$ev" in *6) fam=6 ;; *) fam=4 ;; esac
[ "\${protocol:-}" = dhcp6 ] && fam=6
# dhclient -6 -N -P runs the script once per IA: keep the delegated prefix in its own file.
[ "$fam" = 6 ] && [ -n "\${new_ip6_prefix:-}\${old_ip6_prefix:-}" ] && [ -z "\${new_ip6_address:-}\${old_ip6_address:-}" ] && fam=6pd
echo "$(date +%s.%N) $ev" >> "$OUT.events"
record() { { echo "lab_event=$ev"; echo "lab_time=$(date +%s)"; env | sort; } > "$OUT.lease$fam.tmp" && mv "$OUT.lease$fam.tmp" "$OUT.lease$fam"; }
forget() { rm -f "$OUT.lease$fam"; }
onbound() { :; }
${onBound === undefined ? '' : `onbound() {
  [ -f "$OUT.onbound$fam" ] && return 0
  ( ${onBound}
  ) > "$OUT.onbound$fam.log" 2>&1
  echo $? > "$OUT.onbound$fam"
}
`}`;
  if (kind === 'udhcpc') {
    return `${head}
len="\${mask:-24}"
case "$ev" in
  deconfig) ip link set "$interface" up; ip -4 addr flush dev "$interface" scope global; forget ;;
  bound|renew)
    if [ -f "$OUT.lease4" ]; then old=$(sed -n 's/^ip=//p' "$OUT.lease4"); [ -n "$old" ] && [ "$old" != "$ip" ] && ip -4 addr flush dev "$interface" scope global; fi
    ip -4 addr replace "$ip/$len" dev "$interface"
    if [ -n "\${router:-}" ]; then set -- $router; ip -4 route replace default via "$1" dev "$interface"; fi
    onbound; record ;;
  leasefail|nak) ;;
esac
exit 0
`;
  }
  if (kind.startsWith('dhclient')) {
    return `${head}
case "$ev" in
  PREINIT) ip link set "$interface" up ;;
  PREINIT6) ip link set "$interface" up
    i=0; while [ $i -lt 50 ] && ip -6 addr show dev "$interface" scope link tentative | grep -q inet6; do sleep 0.1; i=$((i+1)); done ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "\${old_ip_address:-}" ] && [ "$old_ip_address" != "$new_ip_address" ]; then ip -4 addr flush dev "$interface" scope global; fi
    len=24
    if [ -n "\${new_subnet_mask:-}" ]; then len=0; for o in $(echo "$new_subnet_mask" | tr . ' '); do
      case $o in 255) len=$((len+8));; 254) len=$((len+7));; 252) len=$((len+6));; 248) len=$((len+5));; 240) len=$((len+4));; 224) len=$((len+3));; 192) len=$((len+2));; 128) len=$((len+1));; esac; done; fi
    ip -4 addr replace "$new_ip_address/$len" dev "$interface"
    if [ -n "\${new_routers:-}" ]; then set -- $new_routers; ip -4 route replace default via "$1" dev "$interface"; fi
    onbound; record ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -n "\${old_ip_address:-}" ] && ip -4 addr del "$old_ip_address" dev "$interface" 2>/dev/null
    forget ;;
  BOUND6|RENEW6|REBIND6|REBOOT6)
    if [ -n "\${old_ip6_address:-}" ] && [ "$old_ip6_address" != "\${new_ip6_address:-}" ]; then ip -6 addr del "$old_ip6_address/\${old_ip6_prefixlen:-128}" dev "$interface" 2>/dev/null; fi
    [ -n "\${new_ip6_address:-}" ] && ip -6 addr replace "$new_ip6_address/\${new_ip6_prefixlen:-128}" dev "$interface" valid_lft "\${new_max_life:-forever}" preferred_lft "\${new_preferred_life:-forever}"
    onbound; record ;;
  EXPIRE6|RELEASE6|STOP6)
    [ -n "\${old_ip6_address:-}" ] && ip -6 addr del "$old_ip6_address/\${old_ip6_prefixlen:-128}" dev "$interface" 2>/dev/null
    forget ;;
esac
exit 0
`;
  }
  // dhcpcd configures addresses and routes itself; the script only records.
  return `${head}
case "$ev" in
  BOUND|RENEW|REBIND|REBOOT|BOUND6|RENEW6|REBIND6|REBOOT6) onbound; record ;;
  EXPIRE|NAK|RELEASE|STOP|STOPPED|EXPIRE6|RELEASE6|STOP6) forget ;;
esac
exit 0
`;
}

// ───────────────────────────── global registry / signal handling ─────────────────────────────

const liveLabs = new Set<Lab>();
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) lab.teardownSync();
  });
  let exiting = false;
  const onSignal = (sig: NodeJS.Signals, code: number): void => {
    process.on(sig, () => {
      // A second signal (npx/tsx forward Ctrl-C, then may send SIGTERM) must not cut the
      // teardown short: every teardown() call shares one promise, and we exit once it is done.
      if (exiting) return;
      exiting = true;
      console.error(`lab: ${sig}: tearing down ${[...liveLabs].map((l) => l.prefix).join(' ') || '(nothing)'}`);
      void (async () => {
        for (const lab of [...liveLabs]) {
          try {
            await lab.teardown();
          } catch (e) {
            console.error(`lab ${lab.prefix}: teardown failed: ${String(e)}`);
          }
        }
        process.exit(code);
      })();
    });
  };
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
  onSignal('SIGHUP', 129);
}

/**
 * For CLIs: uncaught errors and unhandled rejections tear the labs down, then exit 1. (Not
 * installed by createLab: vitest has its own handlers; the 'exit' hook still cleans up.)
 */
export function installUncaughtTeardown(): void {
  const bail = (e: unknown): void => {
    console.error(e);
    void (async () => {
      for (const lab of [...liveLabs]) await lab.teardown().catch(() => undefined);
      process.exit(1);
    })();
  };
  process.on('uncaughtException', bail);
  process.on('unhandledRejection', bail);
}

// ───────────────────────────── the lab ─────────────────────────────

const ADDR = {
  server4: '10.0.0.2',
  server6: 'fd00::2',
  router4: '10.0.0.1',
  router6: 'fd00::1',
  gateway4: '10.1.0.1',
  gateway6: 'fd00:1::1',
};

export class Lab {
  readonly prefix: string;
  readonly dir: string;
  readonly server: LabServer;
  readonly router: LabRouter;
  readonly subscribers: LabSubscriber[];
  readonly addressing: LabAddressing = {
    upstream4: '10.0.0.0/24',
    upstream6: 'fd00::/64',
    pool4: '10.1.0.0/24',
    pool6: 'fd00:1::/64',
    range4: ['10.1.0.100', '10.1.0.199'],
    range6: ['fd00:1::1000', 'fd00:1::1fff'],
    delegated: '2001:db8:100::/40',
    pdRange: ['2001:db8:100::', '2001:db8:100:ff00::'],
    pdLength: 56,
  };
  readonly processes = new Map<number, LabProcess & { child: ChildProcess }>();
  private readonly children = new Map<number, ChildProcess>();
  readonly clients: LabClient[] = [];
  readonly stations: LabStation[] = [];
  private torn = false; // no new processes once teardown has begun
  private tornDone = false; // teardown finished
  private teardownPromise: Promise<void> | null = null;
  private readonly logFn: (msg: string) => void;
  readonly pingCheck: boolean;
  readonly leaseTime: number;
  readonly dhcp6Unicast: boolean;
  dhcpd4: LabProcess | null = null;
  dhcpd6: LabProcess | null = null;

  constructor(opts: LabOptions = {}) {
    this.prefix = opts.prefix ?? `gl${randomBytes(2).toString('hex')}`;
    if (!/^[a-z][a-z0-9]{1,7}$/.test(this.prefix)) throw new Error(`lab: bad prefix ${this.prefix}`);
    this.dir = `/tmp/${this.prefix}`;
    this.logFn = opts.log ?? (() => undefined);
    this.pingCheck = opts.pingCheck ?? false;
    this.leaseTime = opts.leaseTime ?? 600;
    this.dhcp6Unicast = opts.dhcp6Unicast ?? false;
    const p = this.prefix;
    this.server = {
      ns: `${p}-srv`,
      dev: `${p}-srv`,
      ipv4: ADDR.server4,
      ipv6: ADDR.server6,
      dhcpd4ConfPath: `${this.dir}/dhcpd4.conf`,
      dhcpd6ConfPath: `${this.dir}/dhcpd6.conf`,
      dhcpd4LeasesPath: `${this.dir}/dhcpd4.leases`,
      dhcpd6LeasesPath: `${this.dir}/dhcpd6.leases`,
    };
    this.router = {
      ns: `${p}-rtr`,
      upstreamDev: `${p}-wan`,
      ipv4: ADDR.router4,
      ipv6: ADDR.router6,
      gateway4: ADDR.gateway4,
      gateway6: ADDR.gateway6,
    };
    const n = opts.subscribers ?? 1;
    if (n < 1 || n > 99) throw new Error('lab: 1..99 subscribers');
    this.subscribers = Array.from({ length: n }, (_, i) => ({
      index: i,
      name: `sub${i}`,
      ns: `${p}-sub${i}`,
      dev: 'eth0' as const,
      mac: `02:00:00:00:01:${(i + 1).toString(16).padStart(2, '0')}`,
      routerDev: `${p}-p${i}`,
      routerMac: '',
    }));
  }

  /** Every name and address as plain data (JSON-safe). */
  info(): LabInfo {
    return {
      prefix: this.prefix,
      dir: this.dir,
      server: { ...this.server },
      router: { ...this.router },
      subscribers: this.subscribers.map((s) => ({ ...s })),
      addressing: { ...this.addressing },
    };
  }

  /** True once teardown has begun. */
  get closing(): boolean {
    return this.torn;
  }

  get namespaces(): string[] {
    return [this.server.ns, this.router.ns, ...this.subscribers.map((s) => s.ns), ...this.stations.map((s) => s.ns)];
  }

  /**
   * A second station on subscriber `sub`'s port, as on a shared access link: a macvlan
   * (bridge mode) on the subscriber's eth0, moved into a namespace of its own and named
   * eth0 there. Its frames leave by the same router port with its own MAC, and frames to
   * its MAC reach it, not the subscriber. Torn down with the lab.
   */
  async addStation(sub: LabSubscriber | number): Promise<LabStation> {
    const s = typeof sub === 'number' ? this.subscribers[sub] : sub;
    if (!s) throw new Error(`lab: no subscriber ${String(sub)}`);
    if (this.stations.some((x) => x.subscriber === s)) throw new Error(`lab: ${s.name} has a station already`);
    const station: LabStation = {
      ns: `${s.ns}b`, dev: 'eth0', mac: `02:00:00:00:02:${(s.index + 1).toString(16).padStart(2, '0')}`, subscriber: s,
    };
    const ipn = (ns: string, args: string[]): Promise<ExecResult> => this.exec(null, ['ip', '-n', ns, ...args]);
    await this.exec(null, ['ip', 'netns', 'add', station.ns]);
    this.stations.push(station);
    await this.sysctls(station.ns, {
      'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0, 'net.ipv6.conf.all.accept_ra': 0,
      'net.ipv6.conf.default.accept_ra': 0, 'net.ipv6.conf.all.router_solicitations': 0, 'net.ipv6.conf.default.router_solicitations': 0,
    });
    await ipn(s.ns, ['link', 'add', 'st0', 'link', s.dev, 'address', station.mac, 'type', 'macvlan', 'mode', 'bridge']);
    await ipn(s.ns, ['link', 'set', 'st0', 'netns', station.ns]);
    await ipn(station.ns, ['link', 'set', 'st0', 'name', station.dev]);
    await ipn(station.ns, ['link', 'set', 'lo', 'up']);
    await ipn(station.ns, ['link', 'set', station.dev, 'up']);
    return station;
  }

  /**
   * Hands the router's part to a router outside the lab (the firmware image under qemu):
   * the router namespace gives up its addresses and becomes a plain switch, each port
   * (upstream first, then one per subscriber) bridged with a tap device that a VM started
   * in this namespace opens by name (`-netdev tap,ifname=`). Returns the taps in port
   * order. They go with the namespace at teardown.
   */
  async routerTaps(): Promise<string[]> {
    const R = this.router;
    const ipn = (args: string[]): Promise<ExecResult> => this.exec(null, ['ip', '-n', R.ns, ...args]);
    // Its addresses are the VM's now: the namespace must not answer ARP/ND for them.
    await ipn(['addr', 'flush', 'dev', R.upstreamDev]);
    await ipn(['addr', 'del', `${R.gateway4}/32`, 'dev', 'lo']);
    await ipn(['addr', 'del', `${R.gateway6}/128`, 'dev', 'lo']);
    const taps: string[] = [];
    for (const [i, port] of [R.upstreamDev, ...this.subscribers.map((s) => s.routerDev)].entries()) {
      const br = `br${i}`;
      const tap = `tap${i}`;
      await ipn(['link', 'add', br, 'type', 'bridge']); // STP off: ports forward at once
      await this.sysctls(R.ns, { [`net.ipv6.conf.${br}.disable_ipv6`]: 1 });
      await ipn(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      await ipn(['link', 'set', port, 'master', br]);
      await ipn(['link', 'set', tap, 'master', br]);
      for (const d of [tap, br]) await ipn(['link', 'set', d, 'up']);
      taps.push(tap);
    }
    return taps;
  }

  private note(msg: string): void {
    this.logFn(`[lab ${this.prefix}] ${msg}`);
  }

  // ── exec / spawn ──

  /** Runs argv in namespace ns (null: the root namespace). Throws on a non-zero exit unless check=false. */
  async exec(ns: string | null, argv: string[], opts: { check?: boolean; input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    const full = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
    const r = await run(full, opts);
    if (r.code !== 0 && opts.check !== false) {
      throw new Error(`lab: '${full.join(' ')}' exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    }
    return r;
  }

  /** Spawns argv in ns (tracked by PID; stdout+stderr to <dir>/<name>.log). */
  spawn(ns: string | null, argv: string[], opts: { name: string; env?: NodeJS.ProcessEnv }): LabProcess {
    if (this.torn) throw new Error('lab: already torn down');
    let name = opts.name.replace(/[^A-Za-z0-9_.-]/g, '_');
    let logPath = path.join(this.dir, `${name}.log`);
    for (let k = 2; [...this.processes.values()].some((p) => p.name === name); k++) {
      name = `${opts.name}-${k}`;
      logPath = path.join(this.dir, `${name}.log`);
    }
    const fd = fs.openSync(logPath, 'a');
    const full = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
    fs.writeSync(fd, `# ${new Date().toISOString()} ${full.join(' ')}\n`);
    // detached: own process group, so a terminal Ctrl-C reaches only us and teardown is orderly.
    const child = nodeSpawn(full[0]!, full.slice(1), {
      stdio: ['ignore', fd, fd],
      detached: true,
      env: opts.env ?? process.env,
    });
    fs.closeSync(fd);
    if (child.pid === undefined) throw new Error(`lab: could not spawn ${full.join(' ')}`);
    const pid = child.pid;
    let alive = true;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        alive = false;
        resolve({ code, signal });
      });
      child.once('error', () => {
        alive = false;
        resolve({ code: null, signal: null });
      });
    });
    const proc: LabProcess & { child: ChildProcess } = {
      name,
      ns,
      argv,
      pid,
      logPath,
      exited,
      child,
      running: () => alive,
      log: () => tail(logPath, 1000),
      stop: async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 3000) => {
        if (!alive) return;
        try {
          process.kill(pid, signal);
        } catch {
          return;
        }
        const t = await Promise.race([exited.then(() => 'exit'), sleep(timeoutMs).then(() => 'timeout')]);
        if (t === 'timeout' && alive) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
          await Promise.race([exited, sleep(2000)]);
        }
      },
    };
    this.processes.set(pid, proc);
    this.children.set(pid, child);
    this.note(`spawned ${name} pid ${pid}: ${full.join(' ')}`);
    return proc;
  }

  /** Waits until text (or a regexp) appears in a process's log; throws with the log on timeout/exit. */
  async waitForLog(proc: LabProcess, pattern: string | RegExp, timeoutMs = 10_000): Promise<void> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let text = '';
      try {
        text = fs.readFileSync(proc.logPath, 'utf8');
      } catch {
        /* not yet */
      }
      if (re.test(text)) return;
      if (!proc.running()) {
        throw new Error(`lab: ${proc.name} (pid ${proc.pid}) exited before logging ${re}; its log:\n${tail(proc.logPath)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`lab: timed out after ${timeoutMs} ms waiting for ${proc.name} to log ${re}; its log:\n${tail(proc.logPath)}`);
      }
      await sleep(50);
    }
  }

  // ── topology ──

  private async sysctls(ns: string, settings: Record<string, string | number>): Promise<void> {
    const script = Object.entries(settings)
      .map(([k, v]) => `echo ${v} > /proc/sys/${k.replace(/\./g, '/')}`)
      .join(' && ');
    await this.exec(ns, ['sh', '-ec', script]);
  }

  async up(opts: LabOptions = {}): Promise<this> {
    const t0 = Date.now();
    fs.mkdirSync(this.dir, { recursive: false, mode: 0o755 });
    fs.mkdirSync(path.join(this.dir, 'state'));
    liveLabs.add(this);
    installHandlers();

    const ip = (args: string[]): Promise<ExecResult> => this.exec(null, ['ip', ...args]);
    const ipn = (ns: string, args: string[]): Promise<ExecResult> => this.exec(null, ['ip', '-n', ns, ...args]);

    for (const ns of this.namespaces) {
      await ip(['netns', 'add', ns]);
      const base: Record<string, number> = {
        'net.ipv6.conf.all.accept_dad': 0,
        'net.ipv6.conf.default.accept_dad': 0,
        'net.ipv6.conf.all.dad_transmits': 0,
        'net.ipv6.conf.default.dad_transmits': 0,
        'net.ipv6.conf.all.accept_ra': 0,
        'net.ipv6.conf.default.accept_ra': 0,
        'net.ipv6.conf.all.router_solicitations': 0,
        'net.ipv6.conf.default.router_solicitations': 0,
        'net.ipv6.conf.all.disable_ipv6': 0,
        'net.ipv6.conf.default.disable_ipv6': 0,
      };
      if (ns === this.router.ns) {
        Object.assign(base, {
          'net.ipv4.ip_forward': 1,
          'net.ipv6.conf.all.forwarding': 1,
          'net.ipv4.conf.all.rp_filter': 0,
          'net.ipv4.conf.default.rp_filter': 0,
        });
      }
      await this.sysctls(ns, base);
      await ipn(ns, ['link', 'set', 'lo', 'up']);
    }

    // Veths are created directly inside their namespaces: nothing passes through the root one.
    const { server: S, router: R } = this;
    await ipn(R.ns, ['link', 'add', R.upstreamDev, 'type', 'veth', 'peer', 'name', S.dev, 'netns', S.ns]);
    for (const sub of this.subscribers) {
      await ipn(R.ns, ['link', 'add', sub.routerDev, 'type', 'veth', 'peer', 'name', sub.dev, 'netns', sub.ns]);
      await ipn(sub.ns, ['link', 'set', sub.dev, 'address', sub.mac]);
      // Offload stays on, as on any veth, tap or virtio port: locally sent UDP reaches the
      // router's packet sockets with its checksum unfinished (CHECKSUM_PARTIAL), which
      // gleand must honour (test/e2e/checksum-offload.test.ts).
      await ipn(sub.ns, ['link', 'set', sub.dev, 'up']);
      await ipn(R.ns, ['link', 'set', sub.routerDev, 'up']);
      const link = JSON.parse((await ipn(R.ns, ['-j', 'link', 'show', sub.routerDev])).stdout) as { address: string }[];
      sub.routerMac = link[0]?.address ?? '';
    }

    // Server: upstream addresses, routes back to the pools and delegated prefixes.
    await ipn(S.ns, ['addr', 'add', `${S.ipv4}/24`, 'dev', S.dev]);
    await ipn(S.ns, ['addr', 'add', `${S.ipv6}/64`, 'dev', S.dev, 'nodad']);
    await ipn(S.ns, ['link', 'set', S.dev, 'up']);
    // Router: upstream addresses; subscriber gateways on lo (ports stay unnumbered).
    await ipn(R.ns, ['addr', 'add', `${R.ipv4}/24`, 'dev', R.upstreamDev]);
    await ipn(R.ns, ['addr', 'add', `${R.ipv6}/64`, 'dev', R.upstreamDev, 'nodad']);
    await ipn(R.ns, ['link', 'set', R.upstreamDev, 'up']);
    await ipn(R.ns, ['addr', 'add', `${R.gateway4}/32`, 'dev', 'lo']);
    await ipn(R.ns, ['addr', 'add', `${R.gateway6}/128`, 'dev', 'lo']);
    await ipn(S.ns, ['route', 'add', this.addressing.pool4, 'via', R.ipv4]);
    await ipn(S.ns, ['-6', 'route', 'add', this.addressing.pool6, 'via', R.ipv6]);
    await ipn(S.ns, ['-6', 'route', 'add', this.addressing.delegated, 'via', R.ipv6]);

    this.writeServerConfigs();
    if (opts.startServers ?? true) await this.startServers();
    this.note(`up in ${Date.now() - t0} ms`);
    return this;
  }

  // ── dhcpd ──

  private writeServerConfigs(): void {
    const a = this.addressing;
    const common = `# generated by gleand's test lab (${this.prefix})
authoritative;
default-lease-time ${this.leaseTime};
min-lease-time ${Math.min(this.leaseTime, 300)};
max-lease-time ${Math.max(this.leaseTime, 3600)};
log-facility local7;
`;
    fs.writeFileSync(
      this.server.dhcpd4ConfPath,
      `${common}ping-check ${this.pingCheck ? 'true' : 'false'};
allow leasequery;
stash-agent-options true;
subnet 10.0.0.0 netmask 255.255.255.0 { }
subnet 10.1.0.0 netmask 255.255.255.0 {
  range ${a.range4[0]} ${a.range4[1]};
  option routers ${this.router.gateway4};
  option subnet-mask 255.255.255.0;
}
`,
    );
    fs.writeFileSync(
      this.server.dhcpd6ConfPath,
      `${common}allow leasequery;
${this.dhcp6Unicast ? `option dhcp6.unicast ${this.server.ipv6};\n` : ''}subnet6 ${a.upstream6} { }
subnet6 ${a.pool6} {
  range6 ${a.range6[0]} ${a.range6[1]};
  prefix6 ${a.pdRange[0]} ${a.pdRange[1]} /${a.pdLength};
}
${DHCPD6_RECORD_RELAY}`,
    );
    fs.writeFileSync(this.server.dhcpd4LeasesPath, '');
    fs.writeFileSync(this.server.dhcpd6LeasesPath, '');
  }

  /** Starts (or restarts) dhcpd -4 and dhcpd -6 in the server namespace. */
  async startServers(): Promise<void> {
    await Promise.all([this.startDhcpd(4), this.startDhcpd(6)]);
  }

  async startDhcpd(family: 4 | 6): Promise<LabProcess> {
    const S = this.server;
    const old = family === 4 ? this.dhcpd4 : this.dhcpd6;
    if (old) await old.stop();
    const pidFile = `${this.dir}/dhcpd${family}.pid`;
    fs.rmSync(pidFile, { force: true }); // dhcpd refuses to start over a live pid file
    const proc = this.spawn(
      S.ns,
      [
        'dhcpd',
        `-${family}`,
        '-f',
        '-d',
        '-cf',
        family === 4 ? S.dhcpd4ConfPath : S.dhcpd6ConfPath,
        '-lf',
        family === 4 ? S.dhcpd4LeasesPath : S.dhcpd6LeasesPath,
        '-pf',
        pidFile,
        S.dev,
      ],
      { name: `dhcpd${family}` },
    );
    await this.waitForLog(proc, 'Server starting service.', 15_000);
    if (family === 4) this.dhcpd4 = proc;
    else this.dhcpd6 = proc;
    return proc;
  }

  // ── dhcrelay (until gleand relays) ──

  /** ISC dhcrelay -4 (-a: circuit-id only) and -6 in the router namespace, on all (or given) ports. */
  async startDhcrelay(opts: { v4?: boolean; v6?: boolean; subscribers?: LabSubscriber[]; extraV4?: string[] } = {}): Promise<DhcrelayHandle> {
    const subs = opts.subscribers ?? this.subscribers;
    const R = this.router;
    // dhcrelay cannot relay on truly unnumbered ports: -4 discards requests from a port with
    // no IPv4 address and -6 exits when a lower interface has no global address (even with
    // address% given). While it runs, the ports borrow the gateway addresses (/32 and /128
    // noprefixroute: no connected route appears); stop() gives them back.
    await this.borrowGateways(subs);
    let v4: LabProcess | null = null;
    let v6: LabProcess | null = null;
    if (opts.v4 ?? true) {
      v4 = this.spawn(
        R.ns,
        [
          'dhcrelay', '-4', '-d', '-a', ...(opts.extraV4 ?? []),
          '-pf', `${this.dir}/dhcrelay4.pid`,
          '-iu', R.upstreamDev,
          ...subs.flatMap((s) => ['-id', s.routerDev]),
          this.server.ipv4,
        ],
        { name: 'dhcrelay4' },
      );
    }
    if (opts.v6 ?? true) {
      v6 = this.spawn(
        R.ns,
        [
          'dhcrelay', '-6', '-d', '-I',
          '-pf', `${this.dir}/dhcrelay6.pid`,
          ...subs.flatMap((s) => ['-l', `${R.gateway6}%${s.routerDev}`]),
          '-u', `${this.server.ipv6}%${R.upstreamDev}`,
        ],
        { name: 'dhcrelay6' },
      );
    }
    try {
      if (v4) await this.waitForLog(v4, /Sending on\s+Socket\/fallback/, 10_000);
      if (v6) await this.waitForLog(v6, new RegExp(`Sending on\\s+Socket/${subs[0]!.routerDev}\\b`), 10_000);
      await sleep(300); // dhcrelay -6 checks the lower interfaces' addresses after it logs
      for (const p of [v4, v6]) {
        if (p && !p.running()) throw new Error(`lab: ${p.name} exited at start; its log:\n${tail(p.logPath)}`);
      }
    } catch (e) {
      await Promise.all([v4?.stop(), v6?.stop()]);
      await this.unborrowGateways(subs);
      throw e;
    }
    return {
      v4,
      v6,
      stop: async () => {
        await Promise.all([v4?.stop(), v6?.stop()]);
        await this.unborrowGateways(subs);
      },
    };
  }

  private async borrowGateways(subs: LabSubscriber[]): Promise<void> {
    for (const s of subs) {
      await this.exec(null, ['ip', '-n', this.router.ns, 'addr', 'replace', `${this.router.gateway4}/32`, 'dev', s.routerDev]);
      await this.exec(null, ['ip', '-n', this.router.ns, 'addr', 'replace', `${this.router.gateway6}/128`, 'dev', s.routerDev, 'nodad', 'noprefixroute']);
    }
  }

  private async unborrowGateways(subs: LabSubscriber[]): Promise<void> {
    if (this.torn) return;
    for (const s of subs) {
      await this.exec(null, ['ip', '-n', this.router.ns, 'addr', 'del', `${this.router.gateway4}/32`, 'dev', s.routerDev], { check: false });
      await this.exec(null, ['ip', '-n', this.router.ns, 'addr', 'del', `${this.router.gateway6}/128`, 'dev', s.routerDev], { check: false });
    }
  }

  // ── clients ──

  startClient(sub: LabSubscriber | number, kind: ClientKind, opts: ClientOptions = {}): LabClient {
    const s = typeof sub === 'number' ? this.subscribers[sub] : sub;
    if (!s) throw new Error(`lab: no subscriber ${String(sub)}`);
    const dev = opts.dev ?? s.dev;
    const name = opts.dev ? `${s.name}-${dev}-${kind}` : `${s.name}-${kind}`;
    const base = path.join(this.dir, name);
    const script = `${base}.sh`;
    fs.writeFileSync(script, clientScript(kind, base, opts.onBound), { mode: 0o755 });
    let argv: string[];
    let families: (4 | 6)[];
    switch (kind) {
      case 'dhclient4':
      case 'dhclient6':
      case 'dhclient6pd':
      case 'dhclient6napd': {
        const v6 = kind !== 'dhclient4';
        families = v6 ? [6] : [4];
        const unicast = this.dhcp6Unicast ? 'also request dhcp6.unicast;\n' : '';
        fs.writeFileSync(`${base}.conf`, v6 ? `# lab\n${unicast}` : 'request subnet-mask, broadcast-address, routers;\n');
        argv = [
          'dhclient', v6 ? '-6' : '-4', '-d', '-v',
          ...(kind === 'dhclient6pd' ? ['-P'] : kind === 'dhclient6napd' ? ['-N', '-P'] : kind === 'dhclient6' ? ['-N'] : []),
          '-sf', script, '-cf', `${base}.conf`, '-lf', `${base}.leases`, '-pf', `${base}.pid`,
          dev,
        ];
        break;
      }
      case 'udhcpc':
        families = [4];
        argv = ['udhcpc', '-f', '-i', dev, '-s', script, '-p', `${base}.pid`, '-t', '20', '-T', '1', '-A', '1'];
        break;
      case 'dhcpcd4':
      case 'dhcpcd6':
      case 'dhcpcd': {
        families = kind === 'dhcpcd4' ? [4] : kind === 'dhcpcd6' ? [6] : [4, 6];
        // dhcpcd keeps its pid/control files in /run/dhcpcd (per interface name: every
        // subscriber's is eth0) and its DUID in /var/lib/dhcpcd. Give each instance a private
        // mount namespace (ip netns exec already made one) with both bound to the temp dir.
        const run = `${base}.run`;
        const db = `${base}.db`;
        fs.mkdirSync(run, { recursive: true });
        fs.mkdirSync(db, { recursive: true });
        fs.writeFileSync(
          `${base}.conf`,
          [
            '# lab: no hooks besides our script, no IPv4LL, no ARP probe, no RS',
            'noipv4ll',
            'noarp',
            'noipv6rs',
            'nohook resolv.conf, hostname, ntp.conf, timesyncd.conf, yp.conf',
            'duid',
            ...(families.includes(6) ? ['ia_na 1'] : []),
            '',
          ].join('\n'),
        );
        const fam = kind === 'dhcpcd4' ? ['-4'] : kind === 'dhcpcd6' ? ['-6'] : [];
        const inner = `mkdir -p /run/dhcpcd /var/lib/dhcpcd && mount --bind '${run}' /run/dhcpcd && mount --bind '${db}' /var/lib/dhcpcd && exec dhcpcd -B -d ${fam.join(' ')} -f '${base}.conf' -c '${script}' ${dev}`;
        argv = ['unshare', '-m', '--propagation', 'private', 'sh', '-ec', inner];
        break;
      }
    }
    const proc = this.spawn(s.ns, argv, { name });
    const lab = this;
    const readFile = (suffix: string): Record<string, string> | null => {
      try {
        return parseEnvFile(fs.readFileSync(`${base}.lease${suffix}`, 'utf8'));
      } catch {
        return null;
      }
    };
    const readLease = (family: 4 | 6): LeaseFacts | null => {
      if (family === 4) {
        const raw = readFile('4');
        return raw ? leaseFactsFromEnv(kind, 4, raw) : null;
      }
      const na = readFile('6');
      const pd = readFile('6pd');
      const fna = na ? leaseFactsFromEnv(kind, 6, na) : null;
      const fpd = pd ? leaseFactsFromEnv(kind, 6, pd) : null;
      if (fna && fpd) return { ...fna, delegatedPrefix: fpd.delegatedPrefix, raw: { ...fpd.raw, ...fna.raw } } as LeaseFacts;
      return fna ?? fpd;
    };
    // What a complete lease of each family looks like for this kind.
    const wantsAddress = (family: 4 | 6): boolean => family === 4 || kind !== 'dhclient6pd';
    const wantsPrefix = (family: 4 | 6): boolean => family === 6 && (kind === 'dhclient6pd' || kind === 'dhclient6napd');
    const client: LabClient = {
      kind,
      name,
      subscriber: s,
      families,
      proc,
      lease: readLease,
      async waitLease(family = families[0]!, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        let last = '';
        for (;;) {
          const f = readLease(family);
          if (f && (!wantsAddress(family) || f.address) && (!wantsPrefix(family) || f.delegatedPrefix)) {
            if (!f.address) return f; // PD only: nothing to see on eth0
            const r = await lab.exec(s.ns, ['ip', `-${family}`, '-o', 'addr', 'show', 'dev', dev], { check: false });
            last = r.stdout;
            if (r.stdout.includes(` ${f.address}/`)) return f;
          }
          if (!proc.running() || Date.now() > deadline) {
            const why = proc.running() ? `no IPv${family} lease after ${timeoutMs} ms` : 'the client exited';
            throw new Error(
              `lab: ${name} in ${s.ns}: ${why}.\n` +
                `lease file: ${f ? JSON.stringify(f.raw) : '(none)'}\nip addr: ${last || '(not checked)'}\n` +
                `events:\n${tail(`${base}.events`, 20)}\nclient log (${proc.logPath}):\n${tail(proc.logPath, 60)}`,
            );
          }
          await sleep(100);
        }
      },
      onBound(family) {
        try {
          const code = Number(fs.readFileSync(`${base}.onbound${family}`, 'utf8').trim());
          let output = '';
          try { output = fs.readFileSync(`${base}.onbound${family}.log`, 'utf8'); } catch { /* no output */ }
          return { code, output };
        } catch {
          return null;
        }
      },
      stop: (signal?: NodeJS.Signals) => proc.stop(signal),
    };
    this.clients.push(client);
    return client;
  }

  // ── tshark ──

  /** tshark -w <dir>/<name>.pcap on dev in ns; resolves once tshark reports "Capturing on". */
  async capture(ns: string, dev: string, captureFilter = '', name?: string): Promise<Capture> {
    const label = name ?? `capture-${ns.slice(this.prefix.length + 1)}-${dev}`;
    const safe = label.replace(/[^A-Za-z0-9_.-]/g, '_');
    let pcapPath = path.join(this.dir, `${safe}.pcap`);
    for (let k = 2; fs.existsSync(pcapPath); k++) pcapPath = path.join(this.dir, `${safe}-${k}.pcap`);
    const argv = ['tshark', '-n', '-q', '-i', dev, '-w', pcapPath];
    if (captureFilter) argv.push('-f', captureFilter);
    const proc = this.spawn(ns, argv, { name: label });
    await this.waitForLog(proc, 'Capturing on', 15_000);
    return {
      pcapPath,
      stop: async () => {
        await sleep(200); // let the last packets reach the ring
        await proc.stop('SIGINT', 5000);
        return pcapPath;
      },
    };
  }

  // ── gleand ──

  /** Writes the UCI config to <dir>/gleand.conf and runs the bundle in the router namespace. */
  startGleand(configText: string, opts: { bundle?: string; args?: string[] } = {}): GleandHandle {
    const bundle = opts.bundle ?? GLEAND_BUNDLE;
    if (!fs.existsSync(bundle)) throw new Error(`lab: ${bundle} does not exist (npm run build first)`);
    const configPath = path.join(this.dir, 'gleand.conf');
    fs.writeFileSync(configPath, configText);
    const proc = this.spawn(this.router.ns, [process.execPath, bundle, 'run', '-c', configPath, ...(opts.args ?? [])], {
      name: 'gleand',
    });
    return {
      pid: proc.pid, configPath, logPath: proc.logPath, proc,
      stop: (signal?: NodeJS.Signals) => proc.stop(signal, 5000),
      ready: async () => { await until('gleand to run', async () => /notice main: running/.test(proc.log())); },
    };
  }

  // ── teardown ──

  /** Kills every process the lab started (SIGTERM, wait, SIGKILL), deletes its namespaces and temp dir. */
  teardown(): Promise<void> {
    this.teardownPromise ??= this.doTeardown();
    return this.teardownPromise;
  }

  private async doTeardown(): Promise<void> {
    this.torn = true;
    const t0 = Date.now();
    await Promise.all([...this.processes.values()].map((p) => p.stop('SIGTERM', 3000)));
    // Children of our processes (dhcpcd's privsep helpers) can only live in our namespaces.
    await this.killLeftovers();
    for (const ns of this.namespaces) await run(['ip', 'netns', 'del', ns]);
    await this.deleteRootVeths();
    this.removeDir();
    this.tornDone = true;
    liveLabs.delete(this);
    this.note(`torn down in ${Date.now() - t0} ms`);
  }

  private nsPids(): number[] {
    const pids: number[] = [];
    for (const ns of this.namespaces) {
      try {
        const out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        for (const l of out.split('\n')) if (/^\d+$/.test(l.trim())) pids.push(Number(l.trim()));
      } catch {
        /* ns gone */
      }
    }
    return pids;
  }

  private async killLeftovers(): Promise<void> {
    let pids = this.nsPids();
    if (pids.length === 0) return;
    this.note(`left in the lab's namespaces: ${pids.join(' ')}; SIGTERM`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    for (let i = 0; i < 20 && pids.length > 0; i++) {
      await sleep(100);
      pids = this.nsPids();
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  private async deleteRootVeths(): Promise<void> {
    const r = await run(['ip', '-o', 'link', 'show']);
    for (const m of r.stdout.matchAll(/^\d+:\s+([^:@\s]+)/gm)) {
      const dev = m[1]!;
      if (dev.startsWith(`${this.prefix}-`)) await run(['ip', 'link', 'del', dev]);
    }
  }

  private removeDir(): void {
    if (process.env['KEEP_LAB'] === '1') {
      this.logFn(`[lab ${this.prefix}] KEEP_LAB=1: keeping ${this.dir}`);
      return;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last-ditch synchronous teardown (process 'exit'): SIGKILL, delete namespaces and dir. */
  teardownSync(): void {
    if (this.tornDone) return;
    this.torn = true;
    this.tornDone = true;
    for (const pid of this.processes.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const pid of this.nsPids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of this.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* gone */
      }
    }
    this.removeDir();
    liveLabs.delete(this);
  }
}

/** Creates and brings up a lab (namespaces, veths, addresses, dhcpd -4/-6). Tears down on failure. */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const lab = new Lab(opts);
  try {
    return await lab.up(opts);
  } catch (e) {
    await lab.teardown().catch(() => undefined);
    throw e;
  }
}

// ───────────────────────────── tshark reading ─────────────────────────────

/** tshark -r pcap -Y displayFilter -T fields -e … → one string[] per packet. */
export async function tsharkFields(pcap: string, displayFilter: string, fields: string[]): Promise<string[][]> {
  const argv = ['tshark', '-n', '-r', pcap, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  if (displayFilter) argv.push('-Y', displayFilter);
  for (const f of fields) argv.push('-e', f);
  const r = await run(argv);
  if (r.code !== 0) throw new Error(`tshark -r ${pcap} -Y '${displayFilter}' failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

// ───────────────────────────── gleand config ─────────────────────────────

export interface GleandConfigOverrides {
  logLevel?: string;
  controlSocket?: string;
  stateDir?: string;
  upstreamName?: string;
  /** The devices as the router running gleand names them (default: the lab's veths). */
  upstreamDevice?: string;
  subscriberDevice?: (sub: LabSubscriber) => string;
  /** The bindings snapshot file (default: under the lab's directory). */
  snapshot?: string;
  subscribers?: LabSubscriber[];
  /** Extra options per section, appended after the standard ones (arrays become `list`). */
  global?: Record<string, string | string[]>;
  upstream?: Record<string, string | string[]>;
  subscriber?: (sub: LabSubscriber) => Record<string, string | string[]>;
  /** Raw text appended at the end. */
  extra?: string;
}

function uciOptions(opts: Record<string, string | string[]>): string {
  let s = '';
  for (const [k, v] of Object.entries(opts)) {
    if (Array.isArray(v)) for (const x of v) s += `        list ${k} '${x}'\n`;
    else s += `        option ${k} '${v}'\n`;
  }
  return s;
}

/** The gleand UCI config for this lab (one upstream 'wan', one subscriber section per port). */
export function labGleandConfig(lab: Lab, o: GleandConfigOverrides = {}): string {
  const up = o.upstreamName ?? 'wan';
  let s = `config global 'main'
        option log_level '${o.logLevel ?? 'debug'}'
        option control_socket '${o.controlSocket ?? `${lab.dir}/gleand.sock`}'
        option state_dir '${o.stateDir ?? `${lab.dir}/state`}'
        option snapshot '${o.snapshot ?? `${lab.dir}/snapshot/bindings`}'
${uciOptions(o.global ?? {})}
config upstream '${up}'
        option device '${o.upstreamDevice ?? lab.router.upstreamDev}'
        list dhcpv4_server '${lab.server.ipv4}'
        list dhcpv6_server '${lab.server.ipv6}'
${uciOptions(o.upstream ?? {})}`;
  for (const sub of o.subscribers ?? lab.subscribers) {
    s += `
config subscriber '${sub.name}'
        option device '${o.subscriberDevice?.(sub) ?? sub.routerDev}'
        option upstream '${up}'
        option giaddr '${lab.router.gateway4}'
        option link_address '${lab.router.gateway6}'
        list subnet4 '${lab.addressing.pool4}'
        list subnet6 '${lab.addressing.pool6}'
        list subnet6 '${lab.addressing.delegated}'
${uciOptions(o.subscriber?.(sub) ?? {})}`;
  }
  if (o.extra) s += `\n${o.extra}`;
  return s;
}
