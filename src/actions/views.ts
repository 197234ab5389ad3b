/** Wire views of model objects: field names and shapes as the official SDK models have them. */
import type { AccountDirectory } from '../domain/accounts.js';
import type { PortRange, Rule, SecurityGroup } from '../domain/types.js';
import type { Tx } from '../store/store.js';

const range = (r: PortRange | null) => (r ? `${r.from}/${r.to}` : '');
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A Permission of DescribeSecurityGroupAttribute: every field present, '' when unused. */
/** Names of referenced groups, looked up once per request. */
export type GroupNames = Map<string, Promise<string>>;

export async function permissionView(
  tx: Tx,
  accounts: AccountDirectory,
  rule: Rule,
  groupOwner: string,
  names: GroupNames = new Map(),
) {
  const ingress = rule.direction === 'ingress';
  let refName = '';
  let refOwner = '';
  if (rule.peerGroup) {
    const id = rule.peerGroup.groupId;
    if (!names.has(id))
      names.set(
        id,
        tx.getGroup(id).then((g) => g?.name ?? ''),
      );
    refName = await names.get(id)!;
    if (rule.peerGroup.ownerUid !== groupOwner) {
      refOwner = accounts.byUid(rule.peerGroup.ownerUid)?.name ?? rule.peerGroup.ownerUid;
    }
  }
  const far = {
    cidr: rule.peerCidr ?? '',
    ipv6: rule.peerIpv6Cidr ?? '',
    group: rule.peerGroup?.groupId ?? '',
  };
  const near = { cidr: rule.localCidr ?? '', ipv6: rule.localIpv6Cidr ?? '' };
  const [src, dst] = ingress ? [far, near] : [near, far];
  return {
    SecurityGroupRuleId: rule.id,
    Direction: rule.direction,
    IpProtocol: rule.protocol.toUpperCase(),
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
    Tags: { Tag: g.tags.map((t) => ({ TagKey: t.key, TagValue: t.value })) },
  };
}
