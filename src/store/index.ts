/** Picks the store: PostgreSQL for a postgres:// URL, otherwise the SQLite file in dataDir. */

import type { Store } from '../domain/store.js';
import type { NonceCache, NonceLimits } from '../nonces/window.js';
import { PostgresStore, type PostgresStoreOptions } from './postgres.js';
import { SqliteStore } from './sqlite.js';

export interface OpenStoreOptions {
  /** A `postgres://` or `postgresql://` URL selects PostgreSQL. */
  url?: string;
  /** Where the SQLite database lives when no PostgreSQL URL is given. */
  dataDir: string;
  postgres?: PostgresStoreOptions;
  /** Ceilings of remembered signature nonces (defaults: DEFAULT_NONCE_LIMITS). */
  nonceLimits?: NonceLimits;
  /** Change-log positions kept (default DEFAULT_CHANGE_LOG_RETENTION). */
  changeLogRetention?: number;
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url.trim());
}

/**
 * Opens the configured store, with the signature-nonce cache that goes with it: shared by
 * all nodes on PostgreSQL, kept in a file next to the database on SQLite.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store & { nonces: NonceCache }> {
  if (isPostgresUrl(opts.url)) {
    return PostgresStore.open(opts.url.trim(), {
      ...opts.postgres,
      nonceLimits: opts.nonceLimits,
      changeLogRetention: opts.changeLogRetention,
    });
  }
  return SqliteStore.open(opts.dataDir, opts.nonceLimits, opts.changeLogRetention);
}
