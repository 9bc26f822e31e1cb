import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** ARCHITECTURE: folders are layers; src/ (the core) never imports platform/ or Node I/O. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('layers', () => {
  it('src/ imports nothing from platform/, test/ or node built-ins, and uses no clock or randomness', () => {
    const offenders: string[] = [];
    for (const f of files('src')) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:from|require\()\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || spec.includes('platform/') || spec.includes('/test/') || !spec.startsWith('.'))
          offenders.push(`${f}: imports ${spec}`);
      }
      for (const banned of ['Date.now(', 'new Date(', 'Math.random(', 'performance.now(', 'process.', 'setTimeout(', 'Buffer.'])
        if (text.includes(banned)) offenders.push(`${f}: uses ${banned}`);
    }
    expect(offenders).toEqual([]);
  });

  it('the top level holds only what the design card fixes', () => {
    const allowed = new Set(['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'platform', 'test', 'build',
      'firmware-image', 'README.md', '.ci', '.git', '.gitignore', 'node_modules']);
    expect(readdirSync('.').filter((f) => !allowed.has(f))).toEqual([]);
  });
});
