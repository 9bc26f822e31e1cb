// The native addons (platform/native's gleand_native.node, raw-socket's raw.node) built
// for another architecture with a cross compiler, by node-gyp with --arch, into OUT:
//
//   node build/addons.mjs --arch arm --cc arm-linux-gnueabihf-gcc --cxx arm-linux-gnueabihf-g++ \
//        [--nodedir /usr] [--only gleand_native|raw] --out DIR
//
// The OpenWrt feed Makefile runs it with the buildroot's target compilers and headers;
// test/unit/firmware/cross-addons.test.ts with Debian's cross compilers. Each addon is
// built in a copy of its source, so the host's builds (node_modules is shared) stay.
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Addon name → its source directory and what node-gyp produces in build/Release. */
export const ADDONS = {
  gleand_native: { dir: join(root, 'platform', 'native'), file: 'gleand_native.node' },
  raw: { dir: join(root, 'node_modules', 'raw-socket'), file: 'raw.node' },
};

export function nodeGypPath() {
  return process.env.npm_config_node_gyp
    ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

/**
 * Builds one addon for `arch` (node-gyp's names: arm, arm64, mips, mipsel, x64) and copies
 * it to `out`. Resolves to the copied file's path; rejects with the compiler's output on
 * failure. Asynchronous, so a caller (a test worker) keeps its event loop while gcc runs.
 */
export async function buildAddon(name, { arch, cc, cxx, nodedir = join(dirname(process.execPath), '..'), out }) {
  const addon = ADDONS[name];
  if (!addon) throw new Error(`unknown addon ${name}`);
  const work = mkdtempSync(join(tmpdir(), `gleand-${name}-${arch}-`));
  try {
    cpSync(addon.dir, work, { recursive: true, filter: (src) => !src.startsWith(join(addon.dir, 'build')) });
    await promisify(execFile)(process.execPath, [nodeGypPath(), 'rebuild', `--arch=${arch}`, `--nodedir=${nodedir}`, '--loglevel=warn'], {
      cwd: work,
      // raw-socket's binding.gyp finds nan's headers with `node -e "require('nan')"`:
      // from the copy, through the repository's node_modules.
      env: { ...process.env, CC: cc, CXX: cxx, LINK: cxx, NODE_PATH: join(root, 'node_modules') },
      maxBuffer: 1 << 26,
    });
    mkdirSync(out, { recursive: true });
    const dest = join(out, addon.file);
    copyFileSync(join(work, 'build', 'Release', addon.file), dest);
    return dest;
  } catch (e) {
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    throw new Error(`${name} for ${arch} did not build:\n${output || e.message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (flag) => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1] : undefined; };
  const arch = opt('--arch'); const cc = opt('--cc'); const cxx = opt('--cxx'); const out = opt('--out');
  if (!arch || !cc || !cxx || !out) {
    process.stderr.write('usage: node build/addons.mjs --arch ARCH --cc CC --cxx CXX [--nodedir DIR] [--only NAME] --out DIR\n');
    process.exit(2);
  }
  const only = opt('--only');
  for (const name of only ? [only] : Object.keys(ADDONS)) {
    const file = await buildAddon(name, { arch, cc, cxx, nodedir: opt('--nodedir'), out });
    console.log(`  ${file}`);
  }
}
