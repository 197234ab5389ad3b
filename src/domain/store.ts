/**
 * The storage the domain declares and works against (transactions, reads and writes of the
 * model, the change log); src/store implements it on SQLite and on PostgreSQL.
 */
import type {
  GroupRef,
  NetworkInterface,
  Rule,
  SecurityGroup,
  Vpc,
  VSwitch,
} from '../domain/types.js';

/** A committed change, published to subscribers (the engine, other nodes) after commit. */
export type Change =
  | { kind: 'group'; id: string; group: SecurityGroup | null }
  | { kind: 'rule'; id: string; rule: Rule | null }
  | { kind: 'interface'; id: string; eni: NetworkInterface | null };

/** One commit: its duration (ms) and the transactions it made durable together. */
export interface CommitInfo {
  readonly ms: number;
  readonly transactions: number;
}

/**
 * What the change log records of one change: enough to scope it to an account and region
 * without the object (a deleted one is gone). For an interface, `groupIds` holds the groups
 * it was in before and after the change: the groups whose member addresses it may have changed.
 */
export interface LoggedChange {
  readonly kind: Change['kind'];
  readonly id: string;
  readonly ownerUid: string;
  readonly regionId: string;
  readonly groupIds?: readonly string[];
}

/** One committed transaction of the change log. */
export interface ChangeLogEntry {
  /** Its position, shared by every node: a later commit never takes one a reader has passed. */
  readonly pos: number;
  /** When it was appended (ms since the epoch); with `pos`, it identifies the entry. */
  readonly committedAt: number;
  readonly changes: readonly LoggedChange[];
}

export interface ChangeLogState {
  /** The log's identity: fixed when the database was created. */
  readonly epoch: string;
  /** The last position appended (0 when none). */
  readonly head: number;
  /** Entries at or before this position have been deleted (retention). */
  readonly trimmedUpto: number;
  /**
   * Entries past `head` are committed but not yet readable: a transaction that began writing
   * before them is still running (PostgreSQL). They become readable within moments.
   */
  readonly settling?: boolean;
}

export interface IdempotencyRecord {
  action: string;
  fingerprint: string;
  response: string;
}

/** A new rule as the domain builds it; the store assigns `seq`. */
export type NewRule = Omit<Rule, 'seq'>;

/** Raised by `insertRule`/`updateRule` when the group already holds a rule of that identity. */
export class DuplicateRuleError extends Error {}

/** One transaction's view of the data. All mutations of one API call go through one Tx. */
export interface Tx {
  /** Serialises transactions that lock the same key, until commit. */
  lock(key: string): Promise<void>;

  // security groups
  insertGroup(g: SecurityGroup): Promise<void>;
  getGroup(id: string): Promise<SecurityGroup | undefined>;
  /** Reads the group and locks it against concurrent rule changes until commit. */
  lockGroup(id: string): Promise<SecurityGroup | undefined>;
  /** Writes a group's name, description, inner access policy, tags and resource group. */
  updateGroup(g: SecurityGroup): Promise<void>;
  deleteGroup(id: string): Promise<void>;
  listGroups(ownerUid: string, regionId: string): Promise<SecurityGroup[]>;
  /** Locks the (owner, region) group quota until commit and returns the group count. */
  lockGroupQuota(ownerUid: string, regionId: string): Promise<number>;

  // rules
  insertRule(r: NewRule, identity: string): Promise<Rule>;
  updateRule(r: Rule, identity: string): Promise<void>;
  deleteRule(id: string): Promise<void>;
  getRule(id: string): Promise<Rule | undefined>;
  listRules(groupId: string): Promise<Rule[]>;
  countRules(groupId: string): Promise<number>;
  /** The versions of the groups (absent: no such group); see Store.groupVersions. */
  groupVersions(groupIds: readonly string[]): Promise<Map<string, number>>;
  /** The group's rule count and, of `identities`, those it holds (by identity): one read. */
  ruleCensus(
    groupId: string,
    identities: readonly string[],
  ): Promise<{ count: number; found: Map<string, Rule> }>;
  findRuleByIdentity(groupId: string, identity: string): Promise<Rule | undefined>;
  /** Rules of other groups that name `groupId` as their far end. */
  listRulesReferencing(groupId: string): Promise<Rule[]>;

  // VPCs
  insertVpc(v: Vpc): Promise<void>;
  getVpc(id: string): Promise<Vpc | undefined>;
  /** Writes a VPC's CIDR block, name, description, resource group and tags. */
  updateVpc(v: Vpc): Promise<void>;
  listVpcs(ownerUid: string, regionId: string): Promise<Vpc[]>;
  deleteVpc(id: string): Promise<void>;
  countGroupsInVpc(vpcId: string): Promise<number>;

  // vSwitches and network interfaces
  insertVSwitch(v: VSwitch): Promise<void>;
  getVSwitch(id: string): Promise<VSwitch | undefined>;
  /** Writes a vSwitch's name, description, resource group and tags. */
  updateVSwitch(v: VSwitch): Promise<void>;
  listVSwitches(vpcId: string): Promise<VSwitch[]>;
  listVSwitchesOf(ownerUid: string, regionId: string): Promise<VSwitch[]>;
  deleteVSwitch(id: string): Promise<void>;
  insertInterface(e: NetworkInterface): Promise<void>;
  getInterface(id: string): Promise<NetworkInterface | undefined>;
  updateInterface(e: NetworkInterface): Promise<void>;
  deleteInterface(id: string): Promise<void>;
  listInterfacesOf(ownerUid: string, regionId: string): Promise<NetworkInterface[]>;
  listInterfacesInVSwitch(vSwitchId: string): Promise<NetworkInterface[]>;
  countInterfacesInGroup(groupId: string): Promise<number>;

  // the change feed: reads of the change log and of what a feed page shows
  changeLogState(): Promise<ChangeLogState>;
  /** `committedAt` of the entry at `pos`, or undefined when there is none. */
  changeLogStamp(pos: number): Promise<number | undefined>;
  /** Entries after `pos`, in order, at most `limit`. */
  changeLogAfter(pos: number, limit: number): Promise<ChangeLogEntry[]>;
  /** Every rule of the owner's groups in the region. */
  listRulesOf(ownerUid: string, regionId: string): Promise<Rule[]>;
  /** The groups of other accounts that the owner's rules in the region name. */
  listForeignReferences(ownerUid: string, regionId: string): Promise<GroupRef[]>;
  /** The interfaces in a group (of whichever account). */
  listInterfacesInGroup(groupId: string): Promise<NetworkInterface[]>;

  // idempotency (ClientToken), kept 24 hours
  getIdempotency(
    ownerUid: string,
    token: string,
    nowMs: number,
  ): Promise<IdempotencyRecord | undefined>;
  putIdempotency(
    ownerUid: string,
    token: string,
    rec: IdempotencyRecord,
    expiresAtMs: number,
  ): Promise<void>;
}

/** Every group, rule and interface, as of one moment. */
export interface Snapshot {
  groups: SecurityGroup[];
  rules: Rule[];
  interfaces: NetworkInterface[];
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction; resolves only after the commit is durable. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs `fn` against a consistent committed view. */
  read<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * A number that changes whenever a write commits here, when this store sees every write
   * as it commits (SQLite: one process owns the file); undefined when writes can commit
   * elsewhere first (PostgreSQL nodes). What was read under one version may be reused while
   * the version stays the same.
   */
  committedVersion(): number | undefined;
  /**
   * The groups' versions now (absent: no such group), in one statement: a group's version
   * counts up with every change to it or its rules, on every node.
   */
  groupVersions(groupIds: readonly string[]): Promise<Map<string, number>>;
  /** Every model object, for building in-memory state (the engine) at start. */
  snapshot(): Promise<Snapshot>;
  /** Called after each commit with what it changed (and, on PostgreSQL, with other nodes' changes). */
  subscribe(listener: (changes: readonly Change[]) => void): void;
  /** Called after each commit with how long it took and how many transactions it held. */
  onCommit(listener: (commit: CommitInfo) => void): void;
  close(): Promise<void>;
}
