/**
 * A short pass of the fuzzer (fuzz/) with a fixed seed: raw sockets and validly signed
 * requests with mutated parameters for about twelve seconds, and not one 5xx, hang, unexpected
 * close, answer outside the envelope or malformed XML; the server still serves and logged no
 * internal error. `npm run fuzz -- --seconds N` is the long run.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatSummary, runFuzz } from '../fuzz/fuzz.js';
import { tempDir } from './helpers/server.js';

test('a short fuzzing pass finds nothing', async () => {
  const s = await runFuzz({
    seconds: 12,
    seed: 20261202,
    findingsDir: join(tempDir('ecs-sg-fuzz-'), 'findings'),
    // the suite runs two files at once: fewer sockets than a long run
    rawConcurrency: 64,
    signedConnections: 8,
    slowConcurrency: 2,
  });
  const report = formatSummary(s);
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
