/**
 * Starts the real service (`dist/src/cli.js`) as a child process on a free port with a
 * fresh data directory. No node:test dependency (the bench uses it too); tests import
 * `./server.js`, which also registers the clean-up hook. Every child started here is
 * SIGKILLed on process exit if still running, and every temp directory removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadOrCreateTls } from '../../src/tls.js';
import { databaseFor, dropCreatedDatabases, PG_MODE } from './pg.js';

/** The compiled CLI, relative to this file's compiled location (dist/test/helpers/). */
export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface ServerOptions {
  /** Extra command-line arguments, after `--port 0 --data-dir DIR`. */
  args?: string[];
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string>;
  /** Reuse this data directory (restart tests); otherwise a fresh one is created. */
  dataDir?: string;
  /**
   * Accounts: a path to an accounts file, or an object written to a fresh file as JSON
   * (e.g. `{accounts:[{uid:'1000000000000002', name:'a', accessKeys:[{id:'ak', secret:'sk'}]}]}`).
   */
  accounts?: string | object;
  /** How long to wait for the listening line (default 15 s). */
  startTimeoutMs?: number;
  /** Send the server's stderr to /dev/null instead of keeping it (benchmarks of logging). */
  discardStderr?: boolean;
  /**
   * Let the server make its own TLS CA and certificate (about 0.4 s). By default a fresh data
   * directory gets a copy of one made once per test process, which the server then reuses.
   */
  freshTls?: boolean;
}

export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `https://127.0.0.1:PORT` (same port) */
  httpsUrl: string;
  /** The CA certificate that signed the server's (`DIR/tls/ca.pem`). */
  caFile: string;
  port: number;
  /** `127.0.0.1:PORT` — what the v3 SDK clients take as `endpoint`. */
  host: string;
  dataDir: string;
  /** The accounts file passed with `--accounts`, if any. */
  accountsFile?: string;
  proc: ChildProcess;
  /** Everything the child wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit; SIGKILLs after `timeoutMs`
   * (default 10 s). Resolves to the exit code (null when killed by a signal). Idempotent.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, then waits for the exit. */
  kill9(): Promise<void>;
}

const live = new Set<ChildProcess>();
const createdDirs = new Set<string>();

/** A fresh temporary directory, removed when the test file ends. */
export function tempDir(prefix = 'ecs-sg-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  createdDirs.add(d);
  return d;
}

/** Stops every child still running (SIGTERM, then SIGKILL) and removes the temp dirs. */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...live].map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null || p.signalCode !== null) return resolve();
          const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
          p.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          p.kill('SIGTERM');
        }),
    ),
  );
  for (const d of createdDirs) rmSync(d, { recursive: true, force: true });
  createdDirs.clear();
  await dropCreatedDatabases();
}

process.once('exit', () => {
  for (const p of live) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of createdDirs) rmSync(d, { recursive: true, force: true });
});

function spawnCli(
  args: string[],
  env?: Record<string, string>,
  discardStderr = false,
): ChildProcess {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', discardStderr ? 'ignore' : 'pipe'],
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

function writeAccounts(accounts: string | object | undefined): string | undefined {
  if (accounts === undefined || typeof accounts === 'string') return accounts;
  const file = join(tempDir('ecs-sg-accounts-'), 'accounts.json');
  writeFileSync(file, JSON.stringify(accounts));
  return file;
}

const LISTENING = /ecs-secgroup listening on http:\/\/127\.0\.0\.1:(\d+)\b/;

let tlsTemplate: string | undefined;

/** A data directory's `tls/`, copied from one made once per process. */
function seedTls(dataDir: string): void {
  if (tlsTemplate === undefined) {
    const dir = tempDir('ecs-sg-tls-');
    loadOrCreateTls({ dataDir: dir, hostnames: [] });
    tlsTemplate = join(dir, 'tls');
  }
  cpSync(tlsTemplate, join(dataDir, 'tls'), { recursive: true });
}

/** Starts the service and resolves once it prints its listening line. */
export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir();
  if (!opts.freshTls && !existsSync(join(dataDir, 'tls'))) seedTls(dataDir);
  const accountsFile = writeAccounts(opts.accounts);
  const args = ['--port', '0', '--data-dir', dataDir];
  // The whole suite can run on PostgreSQL: one database per data directory.
  if (PG_MODE && !(opts.args ?? []).includes('--store')) {
    args.push('--store', await databaseFor(dataDir));
  }
  return launch(opts, dataDir, accountsFile, args);
}

function launch(
  opts: ServerOptions,
  dataDir: string,
  accountsFile: string | undefined,
  args: string[],
): Promise<TestServer> {
  if (accountsFile) args.push('--accounts', accountsFile);
  args.push(...(opts.args ?? []));
  const proc = spawnCli(args, opts.env, opts.discardStderr);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

  return new Promise<TestServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`server did not start in time\nstdout: ${out}\nstderr: ${err}`));
    }, opts.startTimeoutMs ?? 15_000);
    const onData = () => {
      const m = LISTENING.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      const port = Number(m[1]);
      let stopping: Promise<number | null> | undefined;
      const srv: TestServer = {
        url: `http://127.0.0.1:${port}`,
        httpsUrl: `https://127.0.0.1:${port}`,
        caFile: join(dataDir, 'tls', 'ca.pem'),
        port,
        host: `127.0.0.1:${port}`,
        dataDir,
        accountsFile,
        proc,
        stdout: () => out,
        stderr: () => err,
        exited,
        stop(signal = 'SIGTERM', timeoutMs = 10_000) {
          stopping ??= (async () => {
            if (proc.exitCode === null && proc.signalCode === null) {
              proc.kill(signal);
              const killer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
              await exited;
              clearTimeout(killer);
            }
            return (await exited).code;
          })();
          return stopping;
        },
        async kill9() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
          await exited;
        },
      };
      resolve(srv);
    };
    proc.stdout!.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `server exited before listening (code ${code}, signal ${signal})\nstdout: ${out}\nstderr: ${err}`,
        ),
      );
    });
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with exactly `args` to completion (for `--help`, bad flags, bad accounts
 * files); SIGKILLs it after `timeoutMs` (default 15 s), which then shows as signal SIGKILL.
 */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const proc = spawnCli(args, opts.env);
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
  return new Promise((resolve) =>
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    }),
  );
}
