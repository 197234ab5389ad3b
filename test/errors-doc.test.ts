/** The README's "Errors" section lists every code of the catalogue with its HTTP status. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CATALOGUE } from '../src/errors.js';

test('every catalogued code and status is in the README\'s "Errors" section', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Errors\n');
  assert.ok(start >= 0, 'the README has an "Errors" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  for (const e of Object.values(CATALOGUE)) {
    const row = rows.find(
      (r) => r.includes(`\`${e.code}\``) && new RegExp(`\\|[^|]*\\b${e.status}\\b[^|]*\\|`).test(r),
    );
    assert.ok(row, `${e.code} (${e.status}) is documented`);
  }
});
