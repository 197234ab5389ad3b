/**
 * `npm run fuzz -- [--seconds N] [--seed S] [--findings DIR] [--raw N] [--signed N] [--slow N]`:
 * fuzzes a real server for N seconds (default 60) and prints what it found; exit code 1 when
 * anything was found (a 5xx, a hang, an unexpected close, an answer outside the envelope,
 * malformed XML, a server that died or logged an internal error), else 0. See fuzz/fuzz.ts.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stopAll } from '../test/helpers/spawn.js';
import { failed, formatSummary, runFuzz } from './fuzz.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string' },
    seed: { type: 'string' },
    findings: { type: 'string' },
    raw: { type: 'string' },
    signed: { type: 'string' },
    slow: { type: 'string' },
  },
});

function int(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+(\.\d+)?$/.test(v)) {
    console.error(`--${name} expects a number, got "${v}"`);
    process.exit(2);
  }
  return Number(v);
}

const seconds = int('seconds', values.seconds, 60);
const seed = int('seed', values.seed, Math.floor(Math.random() * 2 ** 31));
const findingsDir = resolve(values.findings ?? 'fuzz-findings');
console.log(`ecs-secgroup fuzz: ${seconds} s, seed ${seed} (--seed ${seed} reproduces the inputs)`);
const summary = await runFuzz({
  seconds,
  seed,
  findingsDir,
  rawConcurrency: values.raw ? int('raw', values.raw, 32) : undefined,
  signedConnections: values.signed ? int('signed', values.signed, 16) : undefined,
  slowConcurrency: values.slow ? int('slow', values.slow, 4) : undefined,
  log: (l) => console.log(l),
});
console.log(formatSummary(summary));
await stopAll();
process.exit(failed(summary) ? 1 : 0);
