/** Assembles the service: store, accounts, actions, protocol, HTTP server. */
import { resolve } from 'node:path';
import type { Limits } from './actions/context.js';
import { actionTable } from './actions/index.js';
import { importDocument } from './actions/state.js';
import { ConfigError } from './config-error.js';
import { AccountDirectory, DEFAULT_ACCOUNT, loadAccounts } from './domain/accounts.js';
import type { Change, Store } from './domain/store.js';
import { applyChanges, type Engine, engineOf } from './engine/index.js';
import { ApiError } from './errors.js';
import { ChangeSignal } from './feed/signal.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { DEFAULT_NONCE_LIMITS, type NonceLimits } from './nonces/window.js';
import { createProtocol } from './protocol/handler.js';
import { DEFAULT_THROTTLE, Throttle, type ThrottleSettings } from './protocol/throttle.js';
import { createFrontDoor } from './server.js';
import { openStore } from './store/index.js';
import { PostgresStore } from './store/postgres.js';
import { DEFAULT_CHANGE_LOG_RETENTION } from './store/sql.js';
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
  /** A whole request, body included: at most this long. */
  requestTimeoutMs: number;
  throttle: ThrottleSettings;
  /** Where `/metrics` is served; off when undefined. */
  metricsPort?: number;
  /** Whether every request is logged (at info). */
  accessLog: boolean;
  /** A state document (what `export` writes) imported at start, before serving. */
  seed?: { file: string; doc: unknown };
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
  requestTimeoutMs: 60_000,
  throttle: DEFAULT_THROTTLE,
  accessLog: true,
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
  /** The port `/metrics` is served on, when it is. */
  metricsPort?: number;
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
  }).catch((e: NodeJS.ErrnoException) => {
    // SQLite: the data directory cannot hold the database
    if (!cfg.databaseUrl) throw new ConfigError(`--data-dir ${cfg.dataDir}: ${reason(e)}`);
    throw e;
  });
  if (cfg.seed) {
    await seed(cfg, store, accounts, log).catch(async (e) => {
      await store.close();
      throw e;
    });
  }
  const engine = await followEngine(store, log);
  const changes = followCommits(store, cfg.maxFeedWaiters);
  let ready = false;
  const throttle = new Throttle(cfg.throttle);
  const metrics = new Metrics({
    engine: () => engine.current,
    nonces: () => store.nonces.stats(),
    throttled: () => throttle.refused,
    pool: store instanceof PostgresStore ? () => store.poolStats() : undefined,
  });
  store.onCommit((c) => metrics.commit(c));
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
    throttle,
    principalId: (a) => a.uid,
  });
  const door = createFrontDoor({
    handle: protocol,
    bodyLimit: cfg.bodyLimit,
    hostId: 'ecs-secgroup',
    ready: () => ready,
    tls,
    headerTimeoutMs: cfg.headerTimeoutMs,
    requestTimeoutMs: cfg.requestTimeoutMs,
    record: (r) => {
      metrics.request(r);
      if (cfg.accessLog) log.access(r);
    },
  });
  const addr = await door.listen(cfg.host, cfg.port).catch(async (e: NodeJS.ErrnoException) => {
    await store.close();
    throw new ConfigError(`cannot listen on ${cfg.host}:${cfg.port} (--host/--port): ${reason(e)}`);
  });
  const served =
    cfg.metricsPort === undefined
      ? undefined
      : await metrics.serve(cfg.host, cfg.metricsPort).catch(async (e: NodeJS.ErrnoException) => {
          await door.close();
          await store.close();
          throw new ConfigError(
            `cannot listen on ${cfg.host}:${cfg.metricsPort} (--metrics-port): ${reason(e)}`,
          );
        });
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
    metricsPort: served?.port,
    async close() {
      ready = false;
      changes.close(); // long polls answer now instead of holding the close up
      await door.close();
      served?.server.close();
      await store.close();
      log.flush();
    },
  };
}

/** Imports the seed into the account it names (all or nothing; a repeat changes nothing). */
async function seed(
  cfg: AppConfig,
  store: Store,
  accounts: AccountDirectory,
  log: Logger,
): Promise<void> {
  const { file, doc } = cfg.seed!;
  const named = (doc as { OwnerId?: unknown } | null)?.OwnerId;
  const owner =
    named === undefined && !cfg.accountsFile ? DEFAULT_ACCOUNT : accounts.byUid(String(named));
  if (!owner) {
    throw new ConfigError(`--seed ${file}: its OwnerId ${String(named)} is not an account here`);
  }
  try {
    const r = await importDocument(
      { store, accounts, limits: cfg.limits, now: Date.now },
      owner.uid,
      doc,
    );
    log.info(
      `seeded account ${owner.uid} from ${file}: ${r.created} created, ${r.unchanged} unchanged`,
    );
  } catch (e) {
    if (e instanceof ApiError) throw new ConfigError(`--seed ${file}: ${e.code}: ${e.message}`);
    throw e;
  }
}

/** The cause of a system error, in a few words (`ENOENT`, `address already in use`, …). */
function reason(e: NodeJS.ErrnoException): string {
  const known: Record<string, string> = {
    EADDRINUSE: 'address already in use',
    EADDRNOTAVAIL: 'no such address on this machine',
    EACCES: 'permission denied',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name cannot be resolved now',
    ENOTDIR: 'not a directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left',
  };
  return (e.code && known[e.code]) ?? e.code ?? e.message;
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
  const holder = { current: engineOf(await store.snapshot()) };
  let pending: Change[] | null = null;
  store.subscribe((changes) => {
    if (pending) pending.push(...changes);
    applyChanges(holder.current, changes);
  });
  if (store instanceof PostgresStore) {
    store.onReload(() => {
      if (pending) return;
      pending = [];
      store
        .snapshot()
        .then(engineOf)
        .then(
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
