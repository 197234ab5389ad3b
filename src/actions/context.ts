/** What an action handler can use: the store, the accounts, the settings. */
import type { AccountDirectory } from '../domain/accounts.js';
import type { Store } from '../domain/store.js';
import type { Account } from '../domain/types.js';
import type { Engine } from '../engine/index.js';
import type { ChangeSignal } from '../feed/signal.js';
import type { ApiCall } from '../protocol/handler.js';

export interface Limits {
  maxRulesPerGroup: number;
  maxGroupsPerRegion: number;
  duplicateRules: 'error' | 'ignore';
}

export interface Services {
  store: Store;
  accounts: AccountDirectory;
  limits: Limits;
  /** The decision engine, kept equal to the committed model. */
  engine: Engine;
  /** Wakes change-feed long polls after every commit (this node's and other nodes'). */
  changes: ChangeSignal;
  now(): number;
}

/** What the domain's checks need: no engine (the command line's direct mode has none). */
export type DomainServices = Pick<Services, 'store' | 'accounts' | 'limits' | 'now'>;

export type Call = ApiCall<Account>;

export interface ActionDef {
  /** API version (product) the action belongs to. */
  version: string;
  name: string;
  run(svc: Services, call: Call): Promise<Record<string, unknown>>;
}

export const ECS = '2014-05-26';
export const VPC = '2016-04-28';
