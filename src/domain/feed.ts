/**
 * The change feed: what an account sees of the committed changes after a cursor.
 *
 * The store appends, inside each writing transaction, what it touched to a change log whose
 * positions every node shares; a reader never passes a position a later commit could take. A feed page is read in one consistent
 * view: the log entries after the cursor, then the current state of what they touched, so
 * the page brings a follower exactly to the state at its new cursor (the last entry read).
 *
 * An account sees its own groups, rules and interfaces of the region, and of each group of
 * another account that its rules name, only the member addresses (`peerGroups`).
 *
 * A cursor that cannot resume gets a snapshot instead: none given (`NoCursor`), older than
 * the log keeps or too far behind (`Expired`), or not of this log (`Reset`: another database,
 * or one restored to an earlier point).
 */
import { apiError } from '../errors.js';
import type { ChangeLogEntry, ChangeLogState, Tx } from './store.js';
import {
  interfaceAddresses,
  type NetworkInterface,
  type Rule,
  type SecurityGroup,
} from './types.js';

export interface FeedScope {
  readonly ownerUid: string;
  readonly regionId: string;
}

/** A position in the change log, and the stamp of its entry (0 for position 0). */
export interface Cursor {
  readonly epoch: string;
  readonly pos: number;
  readonly stamp: number;
}

export type SnapshotReason = 'NoCursor' | 'Expired' | 'Reset';

/** Member addresses of another account's group that the account's rules name. */
export interface PeerGroup {
  readonly groupId: string;
  readonly ownerUid: string;
  readonly addresses: readonly string[];
}

export interface FeedPage {
  /** Where the page brings its reader: resume from here. */
  readonly cursor: Cursor;
  /** Set when the page is a whole snapshot (everything else in scope is gone). */
  readonly snapshot: SnapshotReason | null;
  readonly groups: readonly SecurityGroup[];
  readonly deletedGroupIds: readonly string[];
  readonly rules: readonly Rule[];
  readonly deletedRuleIds: readonly string[];
  readonly interfaces: readonly NetworkInterface[];
  readonly deletedInterfaceIds: readonly string[];
  readonly peerGroups: readonly PeerGroup[];
  /**
   * Later commits are not readable yet, only for a moment (see ChangeLogState.settling): the
   * cursor may be behind a commit already acknowledged, so a reader that must hold every
   * acknowledged change asks again.
   */
  readonly settling?: boolean;
}

/** A cursor further behind than this many log entries gets a snapshot. */
export const MAX_FEED_ENTRIES = 10_000;

const CURSOR = /^([0-9a-f]{1,32})\.([0-9a-z]{1,12})\.([0-9a-z]{1,12})$/;

export function formatCursor(c: Cursor): string {
  return `${c.epoch}.${c.pos.toString(36)}.${c.stamp.toString(36)}`;
}

/** Parses a cursor of a previous page; InvalidCursor.Malformed when it is not one. */
export function parseCursor(text: string): Cursor {
  const m = CURSOR.exec(text);
  const pos = m ? Number.parseInt(m[2]!, 36) : Number.NaN;
  const stamp = m ? Number.parseInt(m[3]!, 36) : Number.NaN;
  if (!m || !Number.isSafeInteger(pos) || !Number.isSafeInteger(stamp)) {
    throw apiError('InvalidCursor.Malformed');
  }
  return { epoch: m[1]!, pos, stamp };
}

export function isEmptyPage(p: FeedPage): boolean {
  return (
    p.snapshot === null &&
    p.groups.length === 0 &&
    p.deletedGroupIds.length === 0 &&
    p.rules.length === 0 &&
    p.deletedRuleIds.length === 0 &&
    p.interfaces.length === 0 &&
    p.deletedInterfaceIds.length === 0 &&
    p.peerGroups.length === 0
  );
}

/** The page after `after` (a snapshot when there is none or it cannot resume). */
export async function readFeed(
  tx: Tx,
  scope: FeedScope,
  after: Cursor | undefined,
  maxEntries = MAX_FEED_ENTRIES,
): Promise<FeedPage> {
  const state = await tx.changeLogState();
  const head: Cursor = {
    epoch: state.epoch,
    pos: state.head,
    stamp: state.head === 0 ? 0 : ((await tx.changeLogStamp(state.head)) ?? 0),
  };
  const page = await pageAfter(tx, scope, after, state, head, maxEntries);
  // a snapshot too: its cursor is then behind a commit already acknowledged
  return state.settling ? { ...page, settling: true } : page;
}

async function pageAfter(
  tx: Tx,
  scope: FeedScope,
  after: Cursor | undefined,
  state: ChangeLogState,
  head: Cursor,
  maxEntries: number,
): Promise<FeedPage> {
  if (after === undefined) return snapshot(tx, scope, head, 'NoCursor');
  const reason = await unresumable(tx, after, state);
  if (reason !== null) return snapshot(tx, scope, head, reason);
  const entries = await tx.changeLogAfter(after.pos, maxEntries + 1);
  if (entries.length > maxEntries) return snapshot(tx, scope, head, 'Expired');
  const last = entries.at(-1);
  const cursor = last ? { epoch: state.epoch, pos: last.pos, stamp: last.committedAt } : after;
  return delta(tx, scope, cursor, entries);
}

async function unresumable(
  tx: Tx,
  after: Cursor,
  state: { epoch: string; head: number; trimmedUpto: number },
): Promise<SnapshotReason | null> {
  if (after.epoch !== state.epoch || after.pos > state.head) return 'Reset';
  if (state.trimmedUpto > 0 && after.pos <= state.trimmedUpto) return 'Expired';
  if (after.pos === 0) return after.stamp === 0 ? null : 'Reset';
  return (await tx.changeLogStamp(after.pos)) === after.stamp ? null : 'Reset';
}

const inScope = (scope: FeedScope, o: { ownerUid: string; regionId: string }) =>
  o.ownerUid === scope.ownerUid && o.regionId === scope.regionId;

async function snapshot(
  tx: Tx,
  scope: FeedScope,
  cursor: Cursor,
  reason: SnapshotReason,
): Promise<FeedPage> {
  const refs = await tx.listForeignReferences(scope.ownerUid, scope.regionId);
  return {
    cursor,
    snapshot: reason,
    groups: await tx.listGroups(scope.ownerUid, scope.regionId),
    deletedGroupIds: [],
    rules: await tx.listRulesOf(scope.ownerUid, scope.regionId),
    deletedRuleIds: [],
    interfaces: await tx.listInterfacesOf(scope.ownerUid, scope.regionId),
    deletedInterfaceIds: [],
    peerGroups: await peerGroups(tx, refs),
  };
}

/** The current state of what the entries touched in scope. */
async function delta(
  tx: Tx,
  scope: FeedScope,
  cursor: Cursor,
  entries: readonly ChangeLogEntry[],
): Promise<FeedPage> {
  const touched = {
    group: new Set<string>(),
    rule: new Set<string>(),
    interface: new Set<string>(),
  };
  /** Groups whose members another account's interfaces may have changed. */
  const foreignMembers = new Set<string>();
  for (const e of entries) {
    for (const c of e.changes) {
      if (inScope(scope, c)) touched[c.kind].add(c.id);
      else if (c.kind === 'interface') for (const g of c.groupIds ?? []) foreignMembers.add(g);
    }
  }
  const [groups, deletedGroupIds] = await current(touched.group, (id) => tx.getGroup(id));
  const [rules, deletedRuleIds] = await current(touched.rule, (id) => tx.getRule(id));
  const [interfaces, deletedInterfaceIds] = await current(touched.interface, (id) =>
    tx.getInterface(id),
  );
  // Member addresses of foreign groups the account names: those whose members changed, and
  // those a rule of this page names (the reader may not have known them).
  const named = new Set(rules.flatMap((r) => (r.peerGroup ? [r.peerGroup.groupId] : [])));
  let peers: PeerGroup[] = [];
  if (foreignMembers.size > 0 || named.size > 0) {
    const refs = await tx.listForeignReferences(scope.ownerUid, scope.regionId);
    peers = await peerGroups(
      tx,
      refs.filter((r) => foreignMembers.has(r.groupId) || named.has(r.groupId)),
    );
  }
  return {
    cursor,
    snapshot: null,
    groups,
    deletedGroupIds,
    rules,
    deletedRuleIds,
    interfaces,
    deletedInterfaceIds,
    peerGroups: peers,
  };
}

/** The objects of `ids` that exist now, and the ids of those that do not. */
async function current<T>(
  ids: Iterable<string>,
  get: (id: string) => Promise<T | undefined>,
): Promise<[T[], string[]]> {
  const found: T[] = [];
  const gone: string[] = [];
  for (const id of ids) {
    const x = await get(id);
    if (x === undefined) gone.push(id);
    else found.push(x);
  }
  return [found, gone];
}

async function peerGroups(
  tx: Tx,
  refs: readonly { groupId: string; ownerUid: string }[],
): Promise<PeerGroup[]> {
  const out: PeerGroup[] = [];
  for (const ref of refs) {
    const addrs = new Set<string>();
    for (const e of await tx.listInterfacesInGroup(ref.groupId)) {
      for (const a of interfaceAddresses(e)) addrs.add(a);
    }
    out.push({ groupId: ref.groupId, ownerUid: ref.ownerUid, addresses: [...addrs].sort() });
  }
  return out;
}
