import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withOptionReference } from '../../../src/config/doc';

describe('README option reference', () => {
  it('is generated from the schema (run `npm run docs` when this fails)', () => {
    const readme = readFileSync('README.md', 'utf8');
    const regenerated = withOptionReference(readme);
    expect(regenerated, 'README.md lacks the option reference markers').not.toBeNull();
    expect(readme).toBe(regenerated);
  });
});
