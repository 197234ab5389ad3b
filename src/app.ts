/** Assembles the service: store, accounts, actions, protocol, HTTP server. */
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import type { Limits } from './actions/context.js';
import { actionTable } from './actions/index.js';
import { AccountDirectory, DEFAULT_ACCOUNT, loadAccounts } from './domain/accounts.js';
import type { Logger } from './log.js';
import { createProtocol } from './protocol/handler.js';
import { MemoryNonceCache } from './protocol/nonce.js';
import { closeServer, createHttpServer, listen } from './server.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';

export interface AppConfig {
  host: string;
  port: number;
  dataDir: string;
  accountsFile?: string;
  limits: Limits;
  bodyLimit: number;
}

export const DEFAULTS: AppConfig = {
  host: '127.0.0.1',
  port: 8080,
  dataDir: './data',
  limits: { maxRulesPerGroup: 100, maxGroupsPerRegion: 100, duplicateRules: 'error' },
  bodyLimit: 1024 * 1024,
};

export interface App {
  url: string;
  port: number;
  store: Store;
  accounts: AccountDirectory;
  usesDefaultAccount: boolean;
  close(): Promise<void>;
}

export async function startApp(cfg: AppConfig, log: Logger): Promise<App> {
  const accounts = new AccountDirectory(
    cfg.accountsFile ? loadAccounts(cfg.accountsFile) : [DEFAULT_ACCOUNT],
  );
  const store = SqliteStore.open(resolve(cfg.dataDir));
  let ready = false;
  const protocol = createProtocol({
    credentials: (id) => accounts.credential(id),
    nonces: new MemoryNonceCache(15 * 60 * 1000),
    actions: actionTable({ store, accounts, limits: cfg.limits, now: Date.now }),
    hostId: 'ecs-secgroup',
    onInternalError: (err, action) => log.error(`internal error in ${action ?? 'request'}`, err),
  });
  const server: Server = createHttpServer({
    handle: protocol,
    bodyLimit: cfg.bodyLimit,
    hostId: 'ecs-secgroup',
    ready: () => ready,
  });
  server.keepAliveTimeout = 65_000;
  const addr = await listen(server, cfg.host, cfg.port);
  ready = true;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    store,
    accounts,
    usesDefaultAccount: !cfg.accountsFile,
    async close() {
      ready = false;
      await closeServer(server);
      await store.close();
    },
  };
}
