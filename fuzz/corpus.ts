/**
 * The signed generator's corpus: a valid request for every supported action, built over ids
 * that exist (a set-up creates VPCs, vSwitches, groups with rules, interfaces and tags first),
 * with optional parameters chosen at random. Deletes take ids the fuzzer created during the run
 * (or ids that do not exist), so the set-up's resources stay for the other actions.
 */
import { ECS, type KnownIds, type Pairs, VPC } from './mutate.js';
import type { Rng } from './rng.js';

export const REGION = 'cn-hangzhou';
export const ZONE = 'cn-hangzhou-i';

/** What the set-up made. */
export interface World {
  /** Ids the templates use: set-up resources (kept), then created ones. */
  ids: KnownIds;
  vpc: string;
  vswitch: string;
  /** VPC groups: [0] holds ~100 rules, [1] a few; [2] is empty. */
  groups: string[];
  classicGroup: string;
  enterpriseGroup: string;
  /** Interfaces in groups[1]: [0] also in groups[0]. */
  enis: string[];
  ingressRules: string[];
  egressRules: string[];
  /** The account's state document (ExportState), for ImportState. */
  state: unknown;
  /** Created by the fuzzer's own Create calls: what its Deletes take. */
  scratch: { groups: string[]; enis: string[]; vpcs: string[]; vswitches: string[] };
}

type Template = (rng: Rng, w: World) => Pairs;

const ecs = (action: string, ...rest: Pairs): Pairs => [
  ['Action', action],
  ['Version', ECS],
  ['RegionId', REGION],
  ...rest,
];
const vpc = (action: string, ...rest: Pairs): Pairs => [
  ['Action', action],
  ['Version', VPC],
  ['RegionId', REGION],
  ...rest,
];

/** `[k, v]` when the coin says so. */
function maybe(rng: Rng, p: number, k: string, v: string): Pairs {
  return rng.chance(p) ? [[k, v]] : [];
}

let counter = 0;
const unique = (prefix: string) => `${prefix}${(++counter).toString(36)}`;

function tags(rng: Rng, prefix = 'Tag'): Pairs {
  const out: Pairs = [];
  const n = rng.weighted([
    [60, 0],
    [30, 1],
    [10, 3],
  ]);
  for (let i = 1; i <= n; i++) {
    out.push([`${prefix}.${i}.Key`, rng.pick(['env', 'team', `k${i}`, '中文'])]);
    if (rng.chance(0.8)) out.push([`${prefix}.${i}.Value`, rng.pick(['prod', 'dev', '', 'v'])]);
  }
  return out;
}

const anyGroup = (rng: Rng, w: World) =>
  rng.pick([...w.groups, w.classicGroup, w.enterpriseGroup, ...w.scratch.groups]);
const vpcGroup = (rng: Rng, w: World) => rng.pick(w.groups);
const anyEni = (rng: Rng, w: World) => rng.pick([...w.enis, ...w.scratch.enis]);

/** An id to delete: one the fuzzer made (taken from the pool), else one that does not exist. */
/**
 * A resource of the pool to delete, left in it until a Delete of it succeeds or finds it gone
 * (`harvest`): a refused Delete (mutated, or a VPC that still has vSwitches) must not leak it.
 */
function victim(rng: Rng, pool: string[], prefix: string): string {
  return pool.length > 0 ? rng.pick(pool) : `${prefix}-${'0'.repeat(20)}`;
}

const CIDR_POOL = ['10.0.0.0/8', '192.168.1.0/24', '0.0.0.0/0', '1.2.3.4', '203.0.113.7/32'];
const V6_POOL = ['2001:db8::/32', '::/0', '2001:db8::1'];

/** One permission's fields (flat names, or under `prefix`). */
function permission(rng: Rng, w: World, egress: boolean, prefix = ''): Pairs {
  const protocol = rng.pick(['tcp', 'udp', 'icmp', 'gre', 'all', 'TCP', 'icmpv6']);
  const portful = /^(tcp|udp)$/i.test(protocol);
  const from = rng.range(1, 65535);
  const to = Math.min(65535, from + rng.int(100));
  const far = egress ? 'Dest' : 'Source';
  const near = egress ? 'Source' : 'Dest';
  const out: Pairs = [
    [`${prefix}IpProtocol`, protocol],
    [`${prefix}PortRange`, portful ? `${from}/${to}` : '-1/-1'],
  ];
  const end = protocol === 'icmpv6' ? 1 : rng.int(3);
  if (end === 0) out.push([`${prefix}${far}CidrIp`, rng.pick(CIDR_POOL)]);
  else if (end === 1) out.push([`${prefix}Ipv6${far}CidrIp`, rng.pick(V6_POOL)]);
  else out.push([`${prefix}${far}GroupId`, vpcGroup(rng, w)]);
  out.push(...maybe(rng, 0.4, `${prefix}Policy`, rng.pick(['accept', 'drop', 'Accept'])));
  out.push(...maybe(rng, 0.4, `${prefix}Priority`, String(rng.range(1, 100))));
  out.push(...maybe(rng, 0.2, `${prefix}NicType`, 'intranet'));
  out.push(...maybe(rng, 0.3, `${prefix}Description`, rng.pick(['web', 'ssh from office', 'é'])));
  if (portful) out.push(...maybe(rng, 0.1, `${prefix}SourcePortRange`, '1024/65535'));
  if (end === 0) out.push(...maybe(rng, 0.1, `${prefix}${near}CidrIp`, '10.1.0.0/16'));
  return out;
}

function authorize(egress: boolean): Template {
  return (rng, w) => {
    const group =
      rng.chance(0.05) && w.scratch.groups.length > 0
        ? rng.pick(w.scratch.groups)
        : vpcGroup(rng, w);
    const base = ecs(
      egress ? 'AuthorizeSecurityGroupEgress' : 'AuthorizeSecurityGroup',
      ['SecurityGroupId', group],
      ...maybe(rng, 0.2, 'ClientToken', unique('ct-')),
    );
    if (rng.chance(0.7)) return [...base, ...permission(rng, w, egress)];
    const n = rng.range(1, 4);
    for (let i = 1; i <= n; i++) base.push(...permission(rng, w, egress, `Permissions.${i}.`));
    return base;
  };
}

function revoke(egress: boolean): Template {
  return (rng, w) => {
    const base = ecs(egress ? 'RevokeSecurityGroupEgress' : 'RevokeSecurityGroup', [
      'SecurityGroupId',
      vpcGroup(rng, w),
    ]);
    const rules = egress ? w.egressRules : w.ingressRules;
    if (rng.chance(0.4) && rules.length > 0) {
      base.push(['SecurityGroupRuleId.1', rng.pick(rules)]);
      return base;
    }
    return [...base, ...permission(rng, w, egress)];
  };
}

function modifyRule(egress: boolean): Template {
  return (rng, w) => {
    const rules = egress ? w.egressRules : w.ingressRules;
    const base = ecs(egress ? 'ModifySecurityGroupEgressRule' : 'ModifySecurityGroupRule', [
      'SecurityGroupId',
      w.groups[0]!,
    ]);
    if (rng.chance(0.6) && rules.length > 0) {
      base.push(['SecurityGroupRuleId', rng.pick(rules)]);
      base.push(...maybe(rng, 0.7, 'Description', rng.pick(['changed', '', 'x'.repeat(512)])));
      base.push(...maybe(rng, 0.5, 'Priority', String(rng.range(1, 100))));
      base.push(...maybe(rng, 0.2, 'PortRange', '443/443'));
      return base;
    }
    return [...base, ...permission(rng, w, egress), ['Priority', String(rng.range(1, 100))]];
  };
}

function analyzeWhatIf(rng: Rng, w: World): Pairs {
  const out: Pairs = [];
  if (rng.chance(0.3)) {
    out.push(['Add.1.Direction', rng.pick(['ingress', 'egress'])]);
    out.push(...permission(rng, w, false, 'Add.1.'));
  }
  if (rng.chance(0.2) && w.ingressRules.length > 0)
    out.push(['Remove.1', rng.pick(w.ingressRules)]);
  if (rng.chance(0.3)) out.push(['ExposurePort.1', rng.pick(['22', '20-23', '3389', '1-1024'])]);
  if (rng.chance(0.3)) out.push(['Direction', rng.pick(['ingress', 'egress', 'all'])]);
  return out;
}

function paging(rng: Rng): Pairs {
  return [
    ...maybe(rng, 0.2, 'PageNumber', String(rng.range(1, 3))),
    ...maybe(rng, 0.2, 'PageSize', String(rng.range(1, 100))),
  ];
}

/** Every supported action with its weight (reads are cheaper than writes; writes are capped). */
export const TEMPLATES: readonly (readonly [number, Template])[] = [
  [
    4,
    (rng) =>
      ecs('DescribeRegions', ...maybe(rng, 0.5, 'AcceptLanguage', rng.pick(['en-US', 'zh-CN']))),
  ],
  [
    3,
    (rng, w) =>
      ecs(
        'CreateSecurityGroup',
        ...maybe(rng, 0.7, 'VpcId', w.vpc),
        ...maybe(rng, 0.5, 'SecurityGroupName', rng.pick(['web', 'fuzz-group', '中文组名'])),
        ...maybe(rng, 0.3, 'Description', 'a fuzzed group'),
        ...maybe(rng, 0.2, 'SecurityGroupType', rng.pick(['normal', 'enterprise'])),
        ...maybe(rng, 0.1, 'ResourceGroupId', 'rg-fuzz1'),
        ...maybe(rng, 0.2, 'ClientToken', unique('ct-')),
        ...tags(rng),
      ),
  ],
  [
    1,
    (rng, w) =>
      ecs('DeleteSecurityGroup', ['SecurityGroupId', victim(rng, w.scratch.groups, 'sg')]),
  ],
  [
    6,
    (rng, w) =>
      ecs(
        'DescribeSecurityGroups',
        ...maybe(rng, 0.3, 'VpcId', w.vpc),
        ...maybe(
          rng,
          0.2,
          'SecurityGroupIds',
          JSON.stringify([anyGroup(rng, w), anyGroup(rng, w)]),
        ),
        ...maybe(rng, 0.1, 'SecurityGroupId', anyGroup(rng, w)),
        ...maybe(rng, 0.2, 'NetworkType', rng.pick(['vpc', 'classic'])),
        ...maybe(rng, 0.1, 'SecurityGroupType', rng.pick(['normal', 'enterprise'])),
        ...maybe(rng, 0.1, 'SecurityGroupName', 'web'),
        ...maybe(rng, 0.1, 'FuzzyQuery', 'true'),
        ...maybe(rng, 0.2, 'MaxResults', String(rng.range(1, 100))),
        ...maybe(rng, 0.1, 'NextToken', 'caeba0bbb2be03f84eb48b699f0a4883'),
        ...maybe(rng, 0.1, 'ResourceGroupId', 'rg-fuzz1'),
        ...paging(rng),
        ...tags(rng),
      ),
  ],
  [
    8,
    (rng, w) =>
      ecs(
        'DescribeSecurityGroupAttribute',
        ['SecurityGroupId', anyGroup(rng, w)],
        ...maybe(rng, 0.3, 'Direction', rng.pick(['ingress', 'egress', 'all'])),
        ...maybe(rng, 0.2, 'NicType', rng.pick(['internet', 'intranet', '<nil>'])),
      ),
  ],
  [
    2,
    (rng, w) =>
      ecs(
        'ModifySecurityGroupAttribute',
        ['SecurityGroupId', anyGroup(rng, w)],
        ...maybe(rng, 0.7, 'SecurityGroupName', rng.pick(['renamed', 'web2'])),
        ...maybe(rng, 0.5, 'Description', rng.pick(['changed', 'd'.repeat(256)])),
      ),
  ],
  [
    2,
    (rng, w) =>
      ecs(
        'ModifySecurityGroupPolicy',
        ['SecurityGroupId', anyGroup(rng, w)],
        ['InnerAccessPolicy', rng.pick(['Accept', 'Drop'])],
      ),
  ],
  [6, authorize(false)],
  [3, authorize(true)],
  [3, revoke(false)],
  [2, revoke(true)],
  [2, modifyRule(false)],
  [2, modifyRule(true)],
  [
    2,
    (rng, w) =>
      ecs(
        'DescribeSecurityGroupReferences',
        ['SecurityGroupId.1', anyGroup(rng, w)],
        ...maybe(rng, 0.3, 'SecurityGroupId.2', anyGroup(rng, w)),
      ),
  ],
  [
    2,
    (rng, w) =>
      ecs(
        'CreateNetworkInterface',
        ['VSwitchId', w.vswitch],
        ...(rng.chance(0.7)
          ? ([['SecurityGroupId', w.groups[1]!]] as Pairs)
          : ([
              ['SecurityGroupIds.1', w.groups[1]!],
              ['SecurityGroupIds.2', w.groups[2]!],
            ] as Pairs)),
        ...maybe(rng, 0.2, 'PrimaryIpAddress', `10.1.${rng.range(1, 254)}.${rng.range(2, 250)}`),
        ...maybe(rng, 0.2, 'SecondaryPrivateIpAddressCount', String(rng.range(1, 3))),
        ...maybe(rng, 0.3, 'NetworkInterfaceName', 'fuzz-eni'),
        ...maybe(rng, 0.2, 'Description', 'an interface'),
        ...maybe(rng, 0.2, 'ClientToken', unique('ct-')),
        ...tags(rng),
      ),
  ],
  [
    1,
    (rng, w) =>
      ecs('DeleteNetworkInterface', ['NetworkInterfaceId', victim(rng, w.scratch.enis, 'eni')]),
  ],
  [
    4,
    (rng, w) =>
      ecs(
        'DescribeNetworkInterfaces',
        ...maybe(rng, 0.3, 'NetworkInterfaceId.1', anyEni(rng, w)),
        ...maybe(rng, 0.2, 'VSwitchId', w.vswitch),
        ...maybe(rng, 0.2, 'VpcId', w.vpc),
        ...maybe(rng, 0.2, 'SecurityGroupId', vpcGroup(rng, w)),
        ...maybe(rng, 0.1, 'Type', rng.pick(['Primary', 'Secondary'])),
        ...maybe(rng, 0.1, 'Status', 'Available'),
        ...maybe(rng, 0.1, 'PrimaryIpAddress', '10.1.0.10'),
        ...maybe(rng, 0.2, 'MaxResults', String(rng.range(10, 500))),
        ...paging(rng),
        ...tags(rng),
      ),
  ],
  [3, (rng, w) => ecs('DescribeNetworkInterfaceAttribute', ['NetworkInterfaceId', anyEni(rng, w)])],
  [
    2,
    (rng, w) =>
      ecs(
        'ModifyNetworkInterfaceAttribute',
        ['NetworkInterfaceId', anyEni(rng, w)],
        ...maybe(rng, 0.3, 'SecurityGroupId.1', w.groups[1]!),
        ...maybe(rng, 0.3, 'NetworkInterfaceName', 'renamed-eni'),
        ...maybe(rng, 0.3, 'Description', 'changed'),
        ...maybe(rng, 0.2, 'QueueNumber', String(rng.range(1, 8))),
        ...maybe(rng, 0.2, 'SourceDestCheck', rng.pick(['true', 'false'])),
        ...maybe(rng, 0.2, 'DeleteOnRelease', rng.pick(['true', 'false'])),
      ),
  ],
  [
    2,
    (rng, w) =>
      ecs(
        'AssignPrivateIpAddresses',
        ['NetworkInterfaceId', anyEni(rng, w)],
        ...(rng.chance(0.5)
          ? ([['SecondaryPrivateIpAddressCount', '1']] as Pairs)
          : ([['PrivateIpAddress.1', `10.1.${rng.range(1, 254)}.${rng.range(2, 250)}`]] as Pairs)),
      ),
  ],
  [
    1,
    (rng, w) =>
      ecs(
        'UnassignPrivateIpAddresses',
        ['NetworkInterfaceId', anyEni(rng, w)],
        ['PrivateIpAddress.1', `10.1.${rng.range(1, 254)}.${rng.range(2, 250)}`],
      ),
  ],
  [
    2,
    (rng, w) =>
      ecs(
        rng.pick(['JoinSecurityGroup', 'LeaveSecurityGroup']),
        ['SecurityGroupId', rng.pick([...w.groups, ...w.scratch.groups])],
        rng.chance(0.95) ? ['NetworkInterfaceId', anyEni(rng, w)] : ['InstanceId', 'i-123'],
      ),
  ],
  [
    2,
    (rng, w) => {
      const eni = rng.chance(0.5);
      return ecs(
        'TagResources',
        ['ResourceType', eni ? 'eni' : 'securitygroup'],
        ['ResourceId.1', eni ? anyEni(rng, w) : anyGroup(rng, w)],
        ['Tag.1.Key', rng.pick(['env', 'team', 'owner'])],
        ['Tag.1.Value', rng.pick(['prod', 'dev', ''])],
      );
    },
  ],
  [
    1,
    (rng, w) =>
      ecs(
        'UntagResources',
        ['ResourceType', 'securitygroup'],
        ['ResourceId.1', anyGroup(rng, w)],
        ...(rng.chance(0.7) ? ([['TagKey.1', 'env']] as Pairs) : ([['All', 'true']] as Pairs)),
      ),
  ],
  [
    2,
    (rng, w) =>
      ecs(
        'ListTagResources',
        ['ResourceType', rng.pick(['securitygroup', 'eni'])],
        ...(rng.chance(0.5)
          ? ([['ResourceId.1', anyGroup(rng, w)]] as Pairs)
          : ([['Tag.1.Key', 'env']] as Pairs)),
        ...maybe(rng, 0.1, 'NextToken', 'x'),
      ),
  ],
  [
    2,
    (rng, w) =>
      ecs(
        'DescribeTags',
        ...maybe(rng, 0.5, 'ResourceType', rng.pick(['securitygroup', 'eni'])),
        ...maybe(rng, 0.3, 'ResourceId', anyGroup(rng, w)),
        ...tags(rng),
        ...paging(rng),
      ),
  ],
  [
    1,
    (rng, w) =>
      ecs(
        'JoinResourceGroup',
        ['ResourceType', rng.pick(['securitygroup', 'eni'])],
        ['ResourceId', rng.chance(0.5) ? anyGroup(rng, w) : anyEni(rng, w)],
        ['ResourceGroupId', rng.pick(['rg-fuzz1', 'rg-fuzz2'])],
      ),
  ],
  [
    5,
    (rng, w) => {
      const protocol = rng.pick(['tcp', 'udp', 'icmp', 'icmpv6', 'gre']);
      if (rng.chance(0.3)) {
        return ecs(
          'CheckSecurityGroupTraffic',
          ['IpProtocol', protocol],
          ['SourceNetworkInterfaceId', w.enis[0]!],
          ['DestNetworkInterfaceId', w.enis[1]!],
          ['SourcePort', String(rng.range(1024, 65535))],
          ['DestPort', String(rng.range(1, 65535))],
        );
      }
      return ecs(
        'CheckSecurityGroupTraffic',
        ['IpProtocol', protocol],
        ['NetworkInterfaceId', anyEni(rng, w)],
        ['Direction', rng.pick(['ingress', 'egress'])],
        ['PeerIp', rng.pick(['10.1.0.5', '203.0.113.9', '2001:db8::5', '8.8.8.8'])],
        ['PeerPort', String(rng.range(1, 65535))],
        ['LocalPort', String(rng.range(1, 65535))],
        ...maybe(rng, 0.2, 'LocalIp', '10.1.0.10'),
        ...maybe(rng, 0.2, 'NicType', rng.pick(['internet', 'intranet'])),
      );
    },
  ],
  [0.2, () => ecs('ExportState')],
  [1, (_rng, w) => ecs('ImportState', ['State', JSON.stringify(w.state)])],
  [
    2,
    (rng, w) =>
      ecs(
        'AnalyzeSecurityGroup',
        // the 90-rule group costs milliseconds of analysis: now and then
        ['SecurityGroupId', rng.chance(0.15) ? w.groups[0]! : rng.pick(w.groups.slice(1))],
        ...analyzeWhatIf(rng, w),
      ),
  ],
  [
    1,
    (rng, w) =>
      ecs(
        'AnalyzeNetworkInterface',
        ['NetworkInterfaceId', rng.chance(0.15) ? w.enis[0]! : w.enis[1]!],
        ...analyzeWhatIf(rng, w),
      ),
  ],
  // VPC 2016-04-28
  [
    1,
    (rng) =>
      vpc(
        'CreateVpc',
        ['CidrBlock', rng.pick(['172.16.0.0/12', '192.168.0.0/16', '10.0.0.0/8'])],
        ...maybe(rng, 0.4, 'VpcName', 'fuzz-vpc'),
        ...maybe(rng, 0.2, 'Description', 'a VPC'),
        ...maybe(rng, 0.1, 'EnableIPv6', 'false'),
        ...maybe(rng, 0.2, 'ClientToken', unique('ct-')),
        ...tags(rng),
      ),
  ],
  [
    3,
    (rng, w) =>
      vpc(
        'DescribeVpcs',
        ...maybe(rng, 0.3, 'VpcId', w.vpc),
        ...maybe(rng, 0.2, 'VpcName', 'fuzz-vpc'),
        ...maybe(rng, 0.1, 'IsDefault', 'false'),
        ...maybe(rng, 0.1, 'ResourceGroupId', 'rg-fuzz1'),
        ...paging(rng),
        ...tags(rng),
      ),
  ],
  [2, (rng, w) => vpc('DescribeVpcAttribute', ['VpcId', rng.pick(w.ids.vpcs)])],
  [
    1,
    (rng, w) =>
      vpc(
        'ModifyVpcAttribute',
        ['VpcId', rng.pick(w.ids.vpcs)],
        ...maybe(rng, 0.5, 'VpcName', 'renamed-vpc'),
        ...maybe(rng, 0.3, 'Description', 'changed'),
        ...maybe(rng, 0.2, 'CidrBlock', rng.pick(['10.0.0.0/8', '10.1.0.0/16'])),
      ),
  ],
  [1, (rng, w) => vpc('DeleteVpc', ['VpcId', victim(rng, w.scratch.vpcs, 'vpc')])],
  [
    2,
    (rng, w) =>
      vpc(
        'DescribeRouteTableList',
        ...maybe(rng, 0.5, 'VpcId', w.vpc),
        ...maybe(rng, 0.1, 'RouterType', 'VRouter'),
        ...maybe(rng, 0.1, 'RouteTableType', 'System'),
        ...paging(rng),
      ),
  ],
  [
    1,
    (rng, w) =>
      vpc(
        'CreateVSwitch',
        ['VpcId', w.vpc],
        ['ZoneId', ZONE],
        ['CidrBlock', `10.${rng.range(2, 255)}.${rng.range(0, 255)}.0/24`],
        ...maybe(rng, 0.3, 'VSwitchName', 'fuzz-vsw'),
        ...maybe(rng, 0.2, 'Description', 'a vSwitch'),
        ...maybe(rng, 0.2, 'ClientToken', unique('ct-')),
        ...tags(rng),
      ),
  ],
  [
    3,
    (rng, w) =>
      vpc(
        'DescribeVSwitches',
        ...maybe(rng, 0.4, 'VpcId', w.vpc),
        ...maybe(rng, 0.2, 'VSwitchId', w.vswitch),
        ...maybe(rng, 0.2, 'ZoneId', ZONE),
        ...maybe(rng, 0.1, 'VSwitchName', 'fuzz-vsw'),
        ...paging(rng),
      ),
  ],
  [2, (rng, w) => vpc('DescribeVSwitchAttributes', ['VSwitchId', rng.pick(w.ids.vswitches)])],
  [
    1,
    (rng, w) =>
      vpc(
        'ModifyVSwitchAttribute',
        ['VSwitchId', rng.pick(w.ids.vswitches)],
        ...maybe(rng, 0.5, 'VSwitchName', 'renamed-vsw'),
        ...maybe(rng, 0.3, 'Description', 'changed'),
      ),
  ],
  [1, (rng, w) => vpc('DeleteVSwitch', ['VSwitchId', victim(rng, w.scratch.vswitches, 'vsw')])],
  [
    1,
    (rng, w) =>
      vpc(
        'TagResources',
        ['ResourceType', rng.pick(['VPC', 'VSWITCH', 'vpc'])],
        ['ResourceId.1', rng.pick([w.vpc, w.vswitch])],
        ['Tag.1.Key', 'env'],
        ['Tag.1.Value', 'prod'],
      ),
  ],
  [
    1,
    (rng, w) =>
      vpc(
        'UnTagResources',
        ['ResourceType', 'VPC'],
        ['ResourceId.1', w.vpc],
        ...(rng.chance(0.7) ? ([['TagKey.1', 'env']] as Pairs) : ([['All', 'true']] as Pairs)),
      ),
  ],
  [
    1,
    (rng, w) =>
      vpc(
        'ListTagResources',
        ['ResourceType', rng.pick(['VPC', 'VSWITCH'])],
        ['ResourceId.1', rng.pick([w.vpc, w.vswitch])],
        ...maybe(rng, 0.2, 'MaxResults', String(rng.range(1, 50))),
      ),
  ],
  [
    1,
    (rng, w) =>
      vpc(
        'MoveResourceGroup',
        ['ResourceType', 'VPC'],
        ['ResourceId', w.vpc],
        ['NewResourceGroupId', rng.pick(['rg-fuzz1', 'rg-fuzz2'])],
      ),
  ],
];

/** Resources of a kind the fuzzer keeps at most (its Creates turn into Deletes beyond). */
export const POOL_LIMIT = 30;

/** The resources the fuzzer creates and deletes: one pool each. */
interface Kind {
  pool: keyof World['scratch'];
  /** The id's name: the Create answers it, the Delete names it. */
  field: string;
  create: string;
  remove: string;
  product: (action: string, ...rest: Pairs) => Pairs;
  prefix: string;
  /** The code of a Delete that finds the resource gone (not any 404: a bad region is one). */
  gone: string;
}

const KINDS: readonly Kind[] = [
  {
    pool: 'groups',
    field: 'SecurityGroupId',
    create: 'CreateSecurityGroup',
    remove: 'DeleteSecurityGroup',
    product: ecs,
    prefix: 'sg',
    gone: 'InvalidSecurityGroupId.NotFound',
  },
  {
    pool: 'enis',
    field: 'NetworkInterfaceId',
    create: 'CreateNetworkInterface',
    remove: 'DeleteNetworkInterface',
    product: ecs,
    prefix: 'eni',
    gone: 'InvalidEniId.NotFound',
  },
  {
    pool: 'vpcs',
    field: 'VpcId',
    create: 'CreateVpc',
    remove: 'DeleteVpc',
    product: vpc,
    prefix: 'vpc',
    gone: 'InvalidVpcId.NotFound',
  },
  {
    pool: 'vswitches',
    field: 'VSwitchId',
    create: 'CreateVSwitch',
    remove: 'DeleteVSwitch',
    product: vpc,
    prefix: 'vsw',
    gone: 'InvalidVSwitchId.NotFound',
  },
];
const BY_CREATE = new Map(KINDS.map((k) => [k.create, k]));
const BY_REMOVE = new Map(KINDS.map((k) => [k.remove, k]));

/**
 * A valid request of a random action. What the fuzzer creates stays bounded (a long run must
 * not slow down as its world grows): past POOL_LIMIT of a kind, a Create is a Delete instead.
 */
export function validRequest(rng: Rng, w: World): Pairs {
  const pairs = rng.weighted(TEMPLATES)(rng, w);
  const k = BY_CREATE.get(pairs[0]![1]);
  if (k === undefined || w.scratch[k.pool].length < POOL_LIMIT) return pairs;
  return k.product(k.remove, [k.field, victim(rng, w.scratch[k.pool], k.prefix)]);
}

/** Ids a successful answer names, kept for the fuzzer's Deletes and other templates. */
export function harvest(
  w: World,
  action: string,
  status: number,
  body: string,
  pairs: Pairs,
  /** The request was mutated: a NotFound may be of another region, not of the resource. */
  mutated = false,
): void {
  const removed = BY_REMOVE.get(action);
  if (removed !== undefined) {
    // gone (deleted now, or not found): out of the pool
    const gone = status === 404 && !mutated && body.includes(removed.gone);
    if (status !== 200 && !gone) return;
    const id = pairs.find(([k]) => k === removed.field)?.[1];
    const pool = w.scratch[removed.pool];
    const i = id === undefined ? -1 : pool.indexOf(id);
    if (i >= 0) pool.splice(i, 1);
    return;
  }
  if (action === 'ImportState') {
    // what an import made (the document's own resources, or ids a mutation changed) is the
    // fuzzer's to delete too: its pools go over the limit and shrink again
    const state = pairs.find(([k]) => k === 'State')?.[1];
    if (status !== 200 || state === undefined) return;
    const kept = setUp(w);
    for (const { field, pool, prefix } of KINDS) {
      for (const m of state.matchAll(new RegExp(`"${field}":"(${prefix}-[a-z0-9]+)"`, 'g'))) {
        const id = m[1]!;
        if (!kept.has(id) && !w.scratch[pool].includes(id)) w.scratch[pool].push(id);
      }
    }
    return;
  }
  const created = BY_CREATE.get(action);
  if (created === undefined || status !== 200) return;
  // the id field the Create answers (other ids in the answer, such as VpcId, are not it)
  const { field, pool } = created;
  const m =
    new RegExp(`"${field}":"([a-z]+-[a-z0-9]+)"`).exec(body) ??
    new RegExp(`<${field}>([a-z]+-[a-z0-9]+)<`).exec(body);
  const id = m?.[1];
  if (id !== undefined && !setUp(w).has(id) && !w.scratch[pool].includes(id)) {
    w.scratch[pool].push(id);
  }
}

/** The set-up resources, which the fuzzer's Deletes leave alone. */
function setUp(w: World): Set<string> {
  return new Set([w.vpc, w.vswitch, ...w.groups, w.classicGroup, w.enterpriseGroup, ...w.enis]);
}
