/**
 * A follower's copy of what the change feed shows: built from a snapshot page, then kept
 * equal to the server's state at the follower's cursor by applying each later page.
 */
import type { Cursor, FeedPage, PeerGroup } from '../domain/feed.js';
import type { NetworkInterface, Rule, SecurityGroup } from '../domain/types.js';

export class FeedState {
  cursor: Cursor | null = null;
  readonly groups = new Map<string, SecurityGroup>();
  readonly rules = new Map<string, Rule>();
  readonly interfaces = new Map<string, NetworkInterface>();
  /** Member addresses of other accounts' groups that the rules name. */
  readonly peers = new Map<string, PeerGroup>();

  apply(page: FeedPage): void {
    if (page.snapshot !== null) {
      this.groups.clear();
      this.rules.clear();
      this.interfaces.clear();
      this.peers.clear();
    }
    for (const id of page.deletedGroupIds) this.groups.delete(id);
    for (const g of page.groups) this.groups.set(g.id, g);
    for (const id of page.deletedRuleIds) this.rules.delete(id);
    for (const r of page.rules) this.rules.set(r.id, r);
    for (const id of page.deletedInterfaceIds) this.interfaces.delete(id);
    for (const e of page.interfaces) this.interfaces.set(e.id, e);
    for (const p of page.peerGroups) this.peers.set(p.groupId, p);
    // a group no rule names any more is not followed: its later changes do not come
    if (page.peerGroups.length > 0 || page.rules.length > 0 || page.deletedRuleIds.length > 0) {
      const named = new Set<string>();
      for (const r of this.rules.values()) if (r.peerGroup) named.add(r.peerGroup.groupId);
      for (const id of this.peers.keys()) if (!named.has(id)) this.peers.delete(id);
    }
    this.cursor = page.cursor;
  }
}
