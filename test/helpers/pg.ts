/**
 * Running the whole suite against PostgreSQL: with `ECS_SG_TEST_STORE=postgres` and
 * `TEST_DATABASE_URL` set, every fresh data directory gets a fresh database (its URL kept
 * in `<dataDir>/.database-url`, so a restart on the same data dir finds the same data).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export const PG_MODE = process.env.ECS_SG_TEST_STORE === 'postgres';
const created = new Set<string>();

function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('ECS_SG_TEST_STORE=postgres needs TEST_DATABASE_URL');
  return url;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>, url = adminUrl()): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The database URL of `dataDir`, creating the database on first use. */
export async function databaseFor(dataDir: string): Promise<string> {
  const file = join(dataDir, '.database-url');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const name = `ecssg_t_${process.pid}_${created.size}_${Date.now().toString(36)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  created.add(name);
  const u = new URL(adminUrl());
  u.pathname = `/${name}`;
  writeFileSync(file, u.toString());
  return u.toString();
}

/** Drops the databases this process created (servers must be stopped first). */
export async function dropCreatedDatabases(): Promise<void> {
  if (created.size === 0) return;
  await admin(async (c) => {
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  created.clear();
}

/** Runs one statement on the database at `url` (default: the admin database). */
export async function sqlOn(sql: string, url?: string): Promise<void> {
  await admin((c) => c.query(sql), url);
}
