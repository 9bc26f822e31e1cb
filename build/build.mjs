// Bundle gleand into one file, build/out/gleand.js, with the native addons it loads
// copied beside it, so `node build/out/gleand.js ...` runs from any directory.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'out');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// Our native addon (platform/native): rebuilt with node-gyp when missing or older than
// its source. npm runs scripts with npm_config_node_gyp pointing at its own node-gyp.
const nativeDir = join(root, 'platform', 'native');
const addon = join(nativeDir, 'build', 'Release', 'gleand_native.node');
const source = join(nativeDir, 'gleand_native.c');
if (!existsSync(addon) || statSync(addon).mtimeMs < statSync(source).mtimeMs) {
  const gyp = process.env.npm_config_node_gyp
    ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  console.log(`building platform/native with ${gyp}`);
  execFileSync(process.execPath, [gyp, 'rebuild', '--loglevel=warn', '--nodedir=' + join(dirname(process.execPath), '..')], {
    cwd: nativeDir, stdio: ['ignore', 'ignore', 'inherit'],
  });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(root, 'platform', 'main.ts')],
  outfile: join(out, 'gleand.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __GLEAND_VERSION__: JSON.stringify(pkg.version) },
  // raw-socket requires ./build/Release/raw.node: copy it beside the bundle and rewrite the path.
  loader: { '.node': 'copy' },
  assetNames: '[name]',
  logLevel: 'warning',
});

// Our own addon is loaded by path at run time (platform/native/index.ts), not through
// the bundler, so it is copied by name.
copyFileSync(addon, join(out, 'gleand_native.node'));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
let total = 0;
for (const f of readdirSync(out)) {
  const size = statSync(join(out, f)).size;
  if (!f.endsWith('.map')) total += size;
  console.log(`  ${f.padEnd(24)} ${kib(size)}`);
}
console.log(`gleand bundle: ${kib(statSync(join(out, 'gleand.js')).size)}; with addons ${kib(total)}`);
