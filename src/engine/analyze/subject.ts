/**
 * What is analyzed: the rules, inner access and defaults of an interface as the engine decides
 * for it — a real interface in its groups, or an interface that is in one group alone.
 */
import {
  interfaceAddresses,
  type NetworkInterface,
  type Policy,
  type Rule,
  type SecurityGroup,
} from '../../domain/types.js';
import { type Addr, parseAddress } from '../address.js';
import type { GroupMember } from '../engine.js';
import type { Members } from './model.js';

export interface Subject {
  /** Every rule that applies, of both directions, in any order. */
  readonly rules: readonly Rule[];
  readonly members: Members;
  /** Peer addresses inner access accepts over the intranet, before any rule. */
  readonly innerPeers: readonly Addr[];
  /** What egress does when no rule matches (drop for an enterprise group). */
  readonly egressDefault: Policy;
  /** Addresses to prefer as witnesses' local address (the interface's own). */
  readonly localHints: readonly Addr[];
}

export type MembersOf = (groupId: string) => readonly GroupMember[];

const addresses = (ms: readonly GroupMember[]): Addr[] => ms.flatMap((m) => m.addresses);

const acceptsInner = (g: SecurityGroup) => g.type === 'normal' && g.innerAccessPolicy === 'Accept';

/**
 * An interface in `group` alone: inner access (a normal group with Accept) accepts its
 * members' addresses; its witnesses prefer a member's address as the local one.
 */
export function groupSubject(
  group: SecurityGroup,
  rules: readonly Rule[],
  membersOf: MembersOf,
): Subject {
  const own = addresses(membersOf(group.id));
  return {
    rules,
    members: (id) => addresses(membersOf(id)),
    innerPeers: acceptsInner(group) ? own : [],
    egressDefault: group.type === 'enterprise' ? 'drop' : 'accept',
    localHints: own,
  };
}

/**
 * A real interface in `groups` (those of its groups that exist) with their `rules`: inner
 * access accepts the addresses of the other interfaces of its normal Accept groups; an
 * enterprise group makes egress drop by default.
 */
export function interfaceSubject(
  eni: NetworkInterface,
  groups: readonly SecurityGroup[],
  rules: readonly Rule[],
  membersOf: MembersOf,
): Subject {
  const innerPeers = groups
    .filter(acceptsInner)
    .flatMap((g) => addresses(membersOf(g.id).filter((m) => m.interfaceId !== eni.id)));
  return {
    rules,
    members: (id) => addresses(membersOf(id)),
    innerPeers,
    egressDefault: groups.some((g) => g.type === 'enterprise') ? 'drop' : 'accept',
    localHints: interfaceAddresses(eni).map(parseAddress),
  };
}
