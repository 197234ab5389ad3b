/**
 * The SQLite data directory as the command line sees it: which service uses it (a pid file
 * written by `serve`), and emptying it (`reset`). Commands that write to the database
 * directly refuse a directory a running service uses: that service would neither see the
 * change nor keep its own writes once the files are gone.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config-error.js';

const PID_FILE = 'serve.pid';

/** The database files of a data directory (the TLS material in `tls/` is not among them). */
const DATABASE_FILES = ['ecs-secgroup.db', 'nonces.db'].flatMap((f) => [f, `${f}-wal`, `${f}-shm`]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of the running service that uses `dir`, if one does. */
export function serviceUsing(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, PID_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  return alive(pid) ? pid : undefined;
}

/** Refuses `dir` when a running service uses it (`what` names the command for the message). */
export function refuseIfServed(dir: string, what: string): void {
  const pid = serviceUsing(dir);
  if (pid !== undefined) {
    throw new ConfigError(
      `--data-dir ${dir} is in use by a running ecs-secgroup (pid ${pid}); stop it before ${what}`,
    );
  }
}

/** Marks `dir` as used by this process until the returned function is called. */
export function claimDataDir(dir: string): () => void {
  refuseIfServed(dir, 'starting another service on it');
  const file = join(dir, PID_FILE);
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file);
    } catch {
      // already gone
    }
  };
}

/** Removes the database files of `dir` (keeping its TLS CA); returns the names removed. */
export function resetDataDir(dir: string): string[] {
  refuseIfServed(dir, 'resetting it');
  const removed = DATABASE_FILES.filter((f) => existsSync(join(dir, f)));
  for (const f of removed) rmSync(join(dir, f));
  return removed;
}
