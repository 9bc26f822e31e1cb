// `npm run docs`: rewrite the README's option reference from the schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withOptionReference } from '../src/config/doc';

const file = join(__dirname, '..', 'README.md');
const next = withOptionReference(readFileSync(file, 'utf8'));
if (next === null) {
  console.error('README.md has no option reference markers');
  process.exit(1);
}
writeFileSync(file, next);
console.log('README.md option reference regenerated');
