/**
 * `ecs-secgroup export`, `import` and `reset`: an account's state as a file and back, through
 * a running service (the connection flags of `check`) or directly on a data directory or a
 * PostgreSQL database (`--data-dir` / `--store`), and emptying a data directory.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { importDocument } from './actions/state.js';
import { DEFAULTS } from './app.js';
import { callRpc } from './client.js';
import { ConfigError } from './config-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionFrom } from './connection.js';
import { refuseIfServed, resetDataDir } from './data-dir.js';
import { AccountDirectory, DEFAULT_ACCOUNT, loadAccounts } from './domain/accounts.js';
import { exportState, stateText } from './domain/state.js';
import type { Account } from './domain/types.js';
import { openStore } from './store/index.js';

export const EXPORT_USAGE = `Usage: ecs-secgroup export [--out FILE] [connection options]
       ecs-secgroup export (--data-dir DIR | --store URL) [--account UID|NAME] [--out FILE]

Writes the calling account's whole state (VPCs, vSwitches, security groups with their rules
in order, network interfaces, tags, ids) as one JSON document, to stdout or --out FILE.
With --data-dir or --store it reads the database directly (the service may be stopped).

Options:
  --out FILE                write here (replaced whole at the end) instead of stdout
${CONNECTION_USAGE}  --data-dir DIR            read the SQLite database in DIR directly
  --store URL               read this PostgreSQL database directly
  --account UID|NAME        whose state, in direct mode (default: the default account)
  --accounts FILE           the accounts file the service uses (to look NAME up)
`;

export const IMPORT_USAGE = `Usage: ecs-secgroup import FILE [connection options]
       ecs-secgroup import FILE (--data-dir DIR | --store URL) [--accounts FILE]

Creates what a document written by export holds, in the calling account (direct mode: the
account the document names). Everything is validated first; then all of it is created in
one transaction, or nothing is. A resource that exists already and agrees with the document
is left alone (importing twice changes nothing); one that disagrees refuses the import.
FILE "-" reads stdin.

Options:
${CONNECTION_USAGE}  --data-dir DIR            write to the SQLite database in DIR directly (the service
                            using it must be stopped)
  --store URL               write to this PostgreSQL database directly (running nodes follow)
  --accounts FILE           the accounts file the service uses
  --max-rules-per-group N   as the service's flag (direct mode; default ${DEFAULTS.limits.maxRulesPerGroup})
  --max-groups-per-region N as the service's flag (direct mode; default ${DEFAULTS.limits.maxGroupsPerRegion})
`;

export const RESET_USAGE = `Usage: ecs-secgroup reset --data-dir DIR

Deletes the database files of DIR (every account's state and the remembered signature
nonces); the TLS CA and certificates in DIR/tls stay, so clients keep trusting the service.
Refused while a service uses DIR.
`;

const DIRECT_FLAGS = {
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  accounts: { type: 'string' },
} as const;

function directory(file: string | undefined): AccountDirectory {
  return new AccountDirectory(file ? loadAccounts(file) : [DEFAULT_ACCOUNT]);
}

function integer(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) {
    throw new ConfigError(`--${flag} expects an integer >= 1, got "${v}"`);
  }
  return Number(v);
}

/** The store of direct mode, or undefined when the command goes through a service. */
async function directStore(values: { 'data-dir'?: string; store?: string; endpoint?: string }) {
  const dataDir = values['data-dir'];
  const url = values.store;
  if (dataDir === undefined && url === undefined) return undefined;
  if (dataDir !== undefined && url !== undefined) {
    throw new ConfigError('give --data-dir or --store, not both');
  }
  if (values.endpoint !== undefined) {
    throw new ConfigError('--endpoint goes through a service; --data-dir/--store go around it');
  }
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`--store expects postgres://user:pass@host:port/db, got "${url}"`);
  }
  return openStore({ url, dataDir: resolve(dataDir ?? '.') }).catch((e: Error) => {
    throw new ConfigError(`${dataDir ? `--data-dir ${dataDir}` : '--store'}: ${e.message}`);
  });
}

function write(out: string | undefined, text: string): void {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, out);
  } catch (e) {
    throw new ConfigError(
      `--out ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

export async function runExport(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...CONNECTION_FLAGS,
      ...DIRECT_FLAGS,
      out: { type: 'string' },
      account: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(EXPORT_USAGE);
    return;
  }
  if (positionals.length > 0) throw new ConfigError(`unexpected "${positionals[0]}"`);
  const store = await directStore(values);
  if (!store) {
    if (values.account !== undefined) {
      throw new ConfigError('--account is for direct mode: through a service, the key decides');
    }
    const answer = await callRpc(connectionFrom(values), 'ExportState', {});
    write(values.out, stateText(answer.State as Record<string, unknown>));
    return;
  }
  try {
    const who = values.account ?? DEFAULT_ACCOUNT.uid;
    const dir = directory(values.accounts);
    const uid = dir.byUid(who)?.uid ?? dir.byName(who)?.uid ?? who;
    if (!/^[1-9]\d{0,18}$/.test(uid)) throw new ConfigError(`--account ${who}: no such account`);
    const doc = await store.read((tx) => exportState(tx, uid));
    write(values.out, stateText(doc));
  } finally {
    await store.close();
  }
}

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file} is not JSON (${(e as Error).message})`);
  }
}

export async function runImport(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...CONNECTION_FLAGS,
      ...DIRECT_FLAGS,
      'max-rules-per-group': { type: 'string' },
      'max-groups-per-region': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(IMPORT_USAGE);
    return;
  }
  if (positionals.length !== 1) throw new ConfigError('give one FILE to import (- for stdin)');
  const file = positionals[0]!;
  const doc = readDocument(file);
  let result: { created: number; unchanged: number };
  if (values['data-dir'] !== undefined)
    refuseIfServed(values['data-dir'], 'importing into it (or give --endpoint to go through it)');
  const store = await directStore(values);
  if (!store) {
    const zipped = gzipSync(JSON.stringify(doc)).toString('base64');
    const answer = await callRpc(connectionFrom(values), 'ImportState', { StateGzip: zipped });
    result = { created: Number(answer.Created), unchanged: Number(answer.Unchanged) };
  } else {
    try {
      const accounts = directory(values.accounts);
      const named = (doc as { OwnerId?: unknown } | null)?.OwnerId;
      const owner: Account | undefined =
        named === undefined ? DEFAULT_ACCOUNT : accounts.byUid(String(named));
      if (!owner) throw new ConfigError(`${file}: its OwnerId ${String(named)} is not an account`);
      result = await importDocument(
        {
          store,
          accounts,
          now: Date.now,
          limits: {
            ...DEFAULTS.limits,
            maxRulesPerGroup: integer(
              'max-rules-per-group',
              values['max-rules-per-group'],
              DEFAULTS.limits.maxRulesPerGroup,
            ),
            maxGroupsPerRegion: integer(
              'max-groups-per-region',
              values['max-groups-per-region'],
              DEFAULTS.limits.maxGroupsPerRegion,
            ),
          },
        },
        owner.uid,
        doc,
      );
    } finally {
      await store.close();
    }
  }
  process.stdout.write(
    `imported ${file}: ${result.created} created, ${result.unchanged} already there\n`,
  );
}

export function runReset(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(RESET_USAGE);
    return;
  }
  if (positionals.length > 0) throw new ConfigError(`unexpected "${positionals[0]}"`);
  const dir = values['data-dir'];
  if (dir === undefined) throw new ConfigError('--data-dir DIR is required (which one to empty)');
  const removed = resetDataDir(dir);
  process.stdout.write(
    removed.length === 0
      ? `${dir} holds no database: nothing to reset\n`
      : `reset ${dir}: removed ${removed.join(', ')}\n`,
  );
}
