/** Assembles the service: store, accounts, actions, protocol, HTTP server. */
import { resolve } from 'node:path';
import type { Limits } from './actions/context.js';
import { actionTable } from './actions/index.js';
import { AccountDirectory, DEFAULT_ACCOUNT, loadAccounts } from './domain/accounts.js';
import { applyChanges, type Engine, loadEngine } from './engine/index.js';
import { ChangeSignal } from './feed/signal.js';
import type { Logger } from './log.js';
import { DEFAULT_NONCE_LIMITS, type NonceLimits } from './nonces/window.js';
import { createProtocol } from './protocol/handler.js';
import { createFrontDoor } from './server.js';
import { openStore } from './store/index.js';
import { PostgresStore } from './store/postgres.js';
import { DEFAULT_CHANGE_LOG_RETENTION } from './store/sql.js';
import type { Change, Store } from './store/store.js';
import { loadOrCreateTls, type TlsMaterial } from './tls.js';

export interface AppConfig {
  host: string;
  port: number;
  dataDir: string;
  accountsFile?: string;
  /** `postgres://…` selects PostgreSQL; otherwise SQLite in `dataDir`. */
  databaseUrl?: string;
  limits: Limits;
  nonceLimits: NonceLimits;
  bodyLimit: number;
  /** First byte, TLS handshake, request line and headers: at most this long. */
  headerTimeoutMs: number;
  /** Change-log positions kept for DescribeSecurityGroupChanges cursors. */
  changeLogRetention: number;
  /** DescribeSecurityGroupChanges long polls waiting at once, at most. */
  maxFeedWaiters: number;
  tls: {
    /** Names the generated server certificate covers besides localhost, 127.0.0.1, ::1. */
    hostnames: string[];
    /** The user's own certificate and key (PEM files). */
    certFile?: string;
    keyFile?: string;
  };
}

export const DEFAULTS: AppConfig = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  limits: { maxRulesPerGroup: 100, maxGroupsPerRegion: 100, duplicateRules: 'error' },
  nonceLimits: DEFAULT_NONCE_LIMITS,
  bodyLimit: 1024 * 1024,
  headerTimeoutMs: 10_000,
  changeLogRetention: DEFAULT_CHANGE_LOG_RETENTION,
  maxFeedWaiters: 1000,
  tls: { hostnames: [] },
};

export interface App {
  url: string;
  /** The same port over TLS. */
  httpsUrl: string;
  port: number;
  tls: TlsMaterial;
  store: Store;
  accounts: AccountDirectory;
  usesDefaultAccount: boolean;
  close(): Promise<void>;
}

export async function startApp(cfg: AppConfig, log: Logger): Promise<App> {
  const tls = loadOrCreateTls({
    dataDir: resolve(cfg.dataDir),
    hostnames: [...cfg.tls.hostnames, ...(isWildcard(cfg.host) ? [] : [cfg.host])],
    certFile: cfg.tls.certFile,
    keyFile: cfg.tls.keyFile,
  });
  const accounts = new AccountDirectory(
    cfg.accountsFile ? loadAccounts(cfg.accountsFile) : [DEFAULT_ACCOUNT],
  );
  const store = await openStore({
    url: cfg.databaseUrl,
    dataDir: resolve(cfg.dataDir),
    postgres: { log: (m, e) => log.warn(m, e) },
    nonceLimits: cfg.nonceLimits,
    changeLogRetention: cfg.changeLogRetention,
  });
  const engine = await followEngine(store, log);
  const changes = followCommits(store, cfg.maxFeedWaiters);
  let ready = false;
  const protocol = createProtocol({
    credentials: (id) => accounts.credential(id),
    nonces: store.nonces,
    actions: actionTable({
      store,
      accounts,
      limits: cfg.limits,
      get engine() {
        return engine.current;
      },
      changes,
      now: Date.now,
    }),
    hostId: 'ecs-secgroup',
    onInternalError: (err, action) => log.error(`internal error in ${action ?? 'request'}`, err),
  });
  const door = createFrontDoor({
    handle: protocol,
    bodyLimit: cfg.bodyLimit,
    hostId: 'ecs-secgroup',
    ready: () => ready,
    tls,
    headerTimeoutMs: cfg.headerTimeoutMs,
  });
  const addr = await door.listen(cfg.host, cfg.port);
  ready = true;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    httpsUrl: `https://${host}:${addr.port}`,
    port: addr.port,
    tls,
    store,
    accounts,
    usesDefaultAccount: !cfg.accountsFile,
    async close() {
      ready = false;
      changes.close(); // long polls answer now instead of holding the close up
      await door.close();
      await store.close();
    },
  };
}

/** An address that stands for every interface: no certificate name of its own. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** Wakes change-feed long polls after every commit, local or (on PostgreSQL) another node's. */
function followCommits(store: Store, maxWaiters: number): ChangeSignal {
  const signal = new ChangeSignal(maxWaiters);
  store.subscribe(() => signal.notify());
  // changes may have been missed: long polls re-read the log
  if (store instanceof PostgresStore) store.onReload(() => signal.notify());
  return signal;
}

/**
 * The decision engine, following the store: built from a snapshot, then fed every
 * committed change. When the store asks for a reload (a PostgreSQL node that lost its
 * change feed), a new engine is built from a fresh snapshot; changes that arrive
 * meanwhile are applied on top of it before it replaces the old one.
 */
async function followEngine(store: Store, log: Logger): Promise<{ current: Engine }> {
  const holder = { current: await loadEngine(store) };
  let pending: Change[] | null = null;
  store.subscribe((changes) => {
    if (pending) pending.push(...changes);
    applyChanges(holder.current, changes);
  });
  if (store instanceof PostgresStore) {
    store.onReload(() => {
      if (pending) return;
      pending = [];
      loadEngine(store).then(
        (fresh) => {
          applyChanges(fresh, pending ?? []);
          holder.current = fresh;
          pending = null;
        },
        (err) => {
          pending = null;
          log.error('rebuilding the decision engine failed; keeping the current one', err);
        },
      );
    });
  }
  return holder;
}
