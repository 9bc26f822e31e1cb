/**
 * The native addons built for router CPUs with Debian's cross compilers, through
 * build/addons.mjs (node-gyp --arch, the path the OpenWrt feed Makefile takes with the
 * buildroot's compilers), judged by readelf: ELF class, byte order and machine.
 *
 * raw-socket's raw.node is C++ on V8's own API (nan), and V8 in Node 20 has no 32-bit
 * MIPS port: its headers refuse mips and mipsel, which this test also pins down.
 * gleand_native.node uses only Node-API (C), which builds for every target.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error build/addons.mjs is plain JavaScript without types
import { buildAddon } from '../../../build/addons.mjs';

interface Target { readonly arch: string; readonly triplet: string; readonly elfClass: string; readonly data: string; readonly machine: RegExp }
const TARGETS: readonly Target[] = [
  { arch: 'mips', triplet: 'mips-linux-gnu', elfClass: 'ELF32', data: 'big endian', machine: /MIPS R3000/ },
  { arch: 'mipsel', triplet: 'mipsel-linux-gnu', elfClass: 'ELF32', data: 'little endian', machine: /MIPS R3000/ },
  { arch: 'arm', triplet: 'arm-linux-gnueabihf', elfClass: 'ELF32', data: 'little endian', machine: /^ARM$/ },
  { arch: 'arm64', triplet: 'aarch64-linux-gnu', elfClass: 'ELF64', data: 'little endian', machine: /AArch64/ },
];

const out = mkdtempSync(path.join(tmpdir(), 'gleand-cross-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function header(file: string): { elfClass: string; data: string; machine: string; type: string; flags: string } {
  const text = execFileSync('readelf', ['-h', file], { encoding: 'utf8' });
  const field = (name: string): string => new RegExp(`^\\s*${name}:\\s+(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  return { elfClass: field('Class'), data: field('Data'), machine: field('Machine'), type: field('Type'), flags: field('Flags') };
}

const build = (name: string, t: Target): Promise<string> => buildAddon(name, {
  arch: t.arch, cc: `${t.triplet}-gcc`, cxx: `${t.triplet}-g++`, out: path.join(out, t.arch),
}) as Promise<string>;

// Every build at once: each is one single-threaded compiler, so the machine's cores
// share them (the whole set is ~50 s of CPU).
const built = new Map<string, string>();
beforeAll(async () => {
  const jobs = TARGETS.flatMap((t) => (t.arch.startsWith('mips') ? ['gleand_native'] : ['gleand_native', 'raw']).map((name) => ({ name, t })));
  await Promise.all(jobs.map(async ({ name, t }) => { built.set(`${name}/${t.arch}`, await build(name, t)); }));
});

describe.each(TARGETS)('addons for $arch ($triplet)', (t) => {
  it(`gleand_native.node is an ${t.elfClass} ${t.data} shared object for the target machine`, async () => {
    const file = built.get(`gleand_native/${t.arch}`)!;
    const h = header(file);
    expect(h.elfClass).toBe(t.elfClass);
    expect(h.data).toBe(`2's complement, ${t.data}`);
    expect(h.machine).toMatch(t.machine);
    expect(h.type).toMatch(/^DYN/);
    if (t.arch === 'arm') expect(h.flags).toMatch(/hard-float ABI/);
    expect(statSync(file).size).toBeGreaterThan(0);
  });

  if (t.arch.startsWith('mips')) {
    it("raw.node cannot be built: V8's headers (Node 20) refuse 32-bit MIPS", () => {
      // What the build of raw.node stops on, without compiling all of it (~20 s).
      const nodeHeaders = path.join(path.dirname(process.execPath), '..', 'include', 'node');
      const r = spawnSync(`${t.triplet}-g++`, ['-E', '-I', nodeHeaders, '-x', 'c++', '-'], { input: '#include "v8config.h"\n', encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Target architecture was not detected as supported by v8/);
    });
  } else {
    it(`raw.node is an ${t.elfClass} ${t.data} shared object for the target machine`, async () => {
      const h = header(built.get(`raw/${t.arch}`)!);
      expect(h.elfClass).toBe(t.elfClass);
      expect(h.data).toBe(`2's complement, ${t.data}`);
      expect(h.machine).toMatch(t.machine);
    });
  }
});
