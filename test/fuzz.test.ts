/**
 * A short pass of the fuzzer (fuzz/) with a fixed seed: raw sockets and validly signed
 * requests with mutated parameters for about twelve seconds, and not one 5xx, hang, unexpected
 * close, answer outside the envelope or malformed XML; the server still serves and logged no
 * internal error. `npm run fuzz -- --seconds N` is the long run.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatSummary, runFuzz } from '../fuzz/fuzz.js';
import { tempDir } from './helpers/server.js';

test('a short fuzzing pass finds nothing', async () => {
  const findingsDir = join(tempDir('ecs-sg-fuzz-'), 'findings');
  const s = await runFuzz({
    seconds: 12,
    seed: 20261202,
    findingsDir,
    // the suite runs two files at once: fewer sockets than a long run
    rawConcurrency: 64,
    signedConnections: 8,
    slowConcurrency: 2,
  });
  const report = formatSummary(s) + firstFindings(findingsDir);
  assert.equal(s.fiveXx, 0, report);
  assert.equal(s.hangs, 0, report);
  assert.equal(s.closedUnexpected, 0, report);
  assert.equal(s.nonEnvelope, 0, report);
  assert.equal(s.malformedXml, 0, report);
  assert.equal(s.serverAlive, true, report);
  assert.equal(s.finalCheck, 'ok', report);
  assert.deepEqual(s.stderrProblems, [], report);
  assert.ok(s.inputs > 2000, report);
  assert.ok(s.raw > 300 && s.signed > 1000, report);
  assert.ok((s.statuses['200'] ?? 0) > 100, `few successes: ${report}`);
});

/** The first findings' metadata and bytes, for a failure's message (the temp dir is removed). */
function firstFindings(dir: string): string {
  if (!existsSync(dir)) return '';
  const metas = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .slice(0, 3);
  return metas
    .map((f) => {
      const base = join(dir, f.slice(0, -'.json'.length));
      const bytes = (ext: string) =>
        JSON.stringify(readFileSync(base + ext, 'latin1').slice(0, 800));
      return `\n${f}: ${readFileSync(join(dir, f), 'utf8')}  sent: ${bytes('.req')}\n  received: ${bytes('.res')}`;
    })
    .join('');
}
