/** Wire views of model objects: field names and shapes as the official SDK models have them. */
import type { AccountDirectory } from '../domain/accounts.js';
import type { Tx } from '../domain/store.js';
import type { PortRange, Rule, SecurityGroup, Tag } from '../domain/types.js';

/** Tags as the SDK models show them: `{Tag: [{TagKey, TagValue}]}`. */
export const tagsView = (tags: readonly Tag[]) => ({
  Tag: tags.map((t) => ({ TagKey: t.key, TagValue: t.value })),
});

const range = (r: PortRange | null) => (r ? `${r.from}/${r.to}` : '');
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * What a Permission shows of the group a rule names: its name when it is the caller's own
 * group (a grant to another account's group does not entitle anyone to its name), else the
 * owner's account name.
 */
export interface PeerInfo {
  name: string;
  ownerAccount: string;
}

/** The referenced groups of `rules`, each looked up once. */
export async function peerInfos(
  tx: Tx,
  accounts: AccountDirectory,
  rules: readonly Rule[],
  groupOwner: string,
): Promise<Map<string, PeerInfo>> {
  const out = new Map<string, PeerInfo>();
  for (const r of rules) {
    const ref = r.peerGroup;
    if (!ref || out.has(ref.groupId)) continue;
    const own = ref.ownerUid === groupOwner;
    out.set(ref.groupId, {
      name: own ? ((await tx.getGroup(ref.groupId))?.name ?? '') : '',
      ownerAccount: own ? '' : (accounts.byUid(ref.ownerUid)?.name ?? ref.ownerUid),
    });
  }
  return out;
}

/** A Permission of DescribeSecurityGroupAttribute: every field present, '' when unused. */
export function permissionView(rule: Rule, peer: PeerInfo | undefined) {
  const ingress = rule.direction === 'ingress';
  const refName = peer?.name ?? '';
  const refOwner = peer?.ownerAccount ?? '';
  // CIDRs as the caller wrote them
  const far = {
    cidr: rule.peerCidr !== null ? (rule.peerCidrText ?? rule.peerCidr) : '',
    ipv6: rule.peerIpv6Cidr !== null ? (rule.peerCidrText ?? rule.peerIpv6Cidr) : '',
    group: rule.peerGroup?.groupId ?? '',
  };
  const near = {
    cidr: rule.localCidr !== null ? (rule.localCidrText ?? rule.localCidr) : '',
    ipv6: rule.localIpv6Cidr !== null ? (rule.localCidrText ?? rule.localIpv6Cidr) : '',
  };
  const [src, dst] = ingress ? [far, near] : [near, far];
  return {
    SecurityGroupRuleId: rule.id,
    Direction: rule.direction,
    IpProtocol: rule.protocol === 'icmpv6' ? 'ICMPv6' : rule.protocol.toUpperCase(),
    PortRange: range(rule.portRange),
    SourcePortRange: range(rule.sourcePortRange),
    Policy: cap(rule.policy),
    Priority: String(rule.priority),
    NicType: rule.nicType,
    SourceCidrIp: src.cidr,
    DestCidrIp: dst.cidr,
    Ipv6SourceCidrIp: src.ipv6,
    Ipv6DestCidrIp: dst.ipv6,
    SourceGroupId: ingress ? far.group : '',
    SourceGroupName: ingress ? refName : '',
    SourceGroupOwnerAccount: ingress ? refOwner : '',
    DestGroupId: ingress ? '' : far.group,
    DestGroupName: ingress ? '' : refName,
    DestGroupOwnerAccount: ingress ? '' : refOwner,
    SourcePrefixListId: '',
    DestPrefixListId: '',
    Description: rule.description,
    CreateTime: rule.createTime,
  };
}

const renderedPermissions = new WeakMap<Rule, { peer: string; json: string }>();

/**
 * The JSON of a rule's Permission. Rules are immutable (a change makes a new object), so it
 * is kept per rule object, and reused while the referenced group's name and owner are the same.
 */
export function permissionJson(rule: Rule, peer: PeerInfo | undefined): string {
  const key = peer ? `${peer.name}\n${peer.ownerAccount}` : '';
  const hit = renderedPermissions.get(rule);
  if (hit && hit.peer === key) return hit.json;
  const json = JSON.stringify(permissionView(rule, peer));
  renderedPermissions.set(rule, { peer: key, json });
  return json;
}

export function groupView(
  g: SecurityGroup,
  counts: { rules: number; groupRules: number; ecs: number },
) {
  return {
    SecurityGroupId: g.id,
    SecurityGroupName: g.name,
    Description: g.description,
    VpcId: g.vpcId ?? '',
    SecurityGroupType: g.type,
    CreationTime: g.creationTime,
    ResourceGroupId: g.resourceGroupId,
    RuleCount: counts.rules,
    GroupToGroupRuleCount: counts.groupRules,
    EcsCount: counts.ecs,
    AvailableInstanceAmount: Math.max(0, 2000 - counts.ecs),
    ServiceManaged: false,
    Tags: tagsView(g.tags),
  };
}
