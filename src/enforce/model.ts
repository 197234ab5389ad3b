/**
 * The agent's model: the feed's state, and beside it the service's own decision engine fed
 * the same pages, which judges tracked flows exactly as CheckSecurityGroupTraffic would.
 * Another account's group is known by its member addresses only; the engine holds each such
 * group as one holder of those addresses, a member of that group and no other.
 */
import type { FeedPage } from '../domain/feed.js';
import { interfaceAddresses, type NetworkInterface } from '../domain/types.js';
import { Engine, makePacket, type PacketProtocol } from '../engine/index.js';
import { FeedState } from '../feed/state.js';
import type { Flow } from './conntrack.js';

const PEER_PREFIX = 'peer:';

function peerHolder(groupId: string, ownerUid: string, addresses: readonly string[]) {
  const eni: NetworkInterface = {
    id: PEER_PREFIX + groupId,
    ownerUid,
    regionId: '',
    vpcId: '',
    vSwitchId: '',
    zoneId: '',
    primaryIpAddress: addresses[0]!,
    secondaryIpAddresses: addresses.slice(1),
    name: '',
    description: '',
    securityGroupIds: [groupId],
    resourceGroupId: '',
    tags: [],
    queueNumber: 1,
    sourceDestCheck: false,
    deleteOnRelease: false,
    creationTime: '',
  };
  return eni;
}

const JUDGED: ReadonlySet<string> = new Set(['tcp', 'udp', 'icmp', 'gre']);

export class AgentModel {
  readonly state = new FeedState();
  private engine = new Engine();
  private peerHolders = new Set<string>();

  apply(page: FeedPage): void {
    this.state.apply(page);
    if (page.snapshot !== null) {
      this.engine = new Engine();
      this.peerHolders.clear();
      for (const g of this.state.groups.values()) this.engine.upsertGroup(g);
      for (const r of this.state.rules.values()) this.engine.upsertRule(r);
      for (const e of this.state.interfaces.values()) this.engine.upsertInterface(e);
    } else {
      for (const id of page.deletedRuleIds) this.engine.removeRule(id);
      for (const id of page.deletedGroupIds) this.engine.removeGroup(id);
      for (const g of page.groups) this.engine.upsertGroup(g);
      for (const r of page.rules) this.engine.upsertRule(r);
      for (const id of page.deletedInterfaceIds) this.engine.removeInterface(id);
      for (const e of page.interfaces) this.engine.upsertInterface(e);
    }
    const holders = new Set<string>();
    for (const p of this.state.peers.values()) {
      if (p.addresses.length === 0) continue;
      const h = peerHolder(p.groupId, p.ownerUid, p.addresses);
      this.engine.upsertInterface(h);
      holders.add(h.id);
    }
    for (const id of this.peerHolders) if (!holders.has(id)) this.engine.removeInterface(id);
    this.peerHolders = holders;
  }

  /**
   * The flows that would not be accepted as new flows now: egress at the sending interface or
   * ingress at the receiving one drops them, of the interfaces in `enforced` (told by their
   * addresses: a port sends from its own only). Flows with neither end enforced here, and of
   * protocols the rules do not tell apart, are left alone.
   */
  condemned(flows: readonly Flow[], enforced: ReadonlySet<string>): Flow[] {
    const holder = new Map<string, string>();
    for (const id of enforced) {
      const e = this.state.interfaces.get(id);
      if (e) for (const a of interfaceAddresses(e)) holder.set(a, id);
    }
    return flows.filter((f) => {
      if (!JUDGED.has(f.proto)) return false;
      const sender = holder.get(f.src);
      const receiver = holder.get(f.dst);
      const protocol = f.proto as PacketProtocol;
      const sport = f.sport ?? 0;
      const dport = f.dport ?? 0;
      const drops = (interfaceId: string, egress: boolean) =>
        this.engine.decide(
          makePacket({
            interfaceId,
            direction: egress ? 'egress' : 'ingress',
            protocol,
            localAddr: egress ? f.src : f.dst,
            localPort: egress ? sport : dport,
            peerAddr: egress ? f.dst : f.src,
            peerPort: egress ? dport : sport,
          }),
        ).verdict === 'drop';
      return (
        (sender !== undefined && drops(sender, true)) ||
        (receiver !== undefined && drops(receiver, false))
      );
    });
  }
}
