/**
 * Model objects for engine and analyzer tests: a group, an interface, a rule, each with every
 * field set and the test's own overrides. Rules get increasing creation order (seq).
 */
import type { NetworkInterface, Rule, SecurityGroup } from '../../src/domain/types.js';

export function group(id: string, over: Partial<SecurityGroup> = {}): SecurityGroup {
  return {
    id,
    ownerUid: '1',
    regionId: 'cn-hangzhou',
    name: id,
    description: '',
    vpcId: 'vpc-1',
    type: 'normal',
    innerAccessPolicy: 'Drop',
    resourceGroupId: '',
    tags: [],
    creationTime: '2024-01-01T00:00:00Z',
    ...over,
  };
}

export function eni(
  id: string,
  ip: string,
  groups: readonly string[],
  over: Partial<NetworkInterface> = {},
): NetworkInterface {
  return {
    id,
    ownerUid: '1',
    regionId: 'cn-hangzhou',
    vpcId: 'vpc-1',
    vSwitchId: 'vsw-1',
    zoneId: 'cn-hangzhou-a',
    primaryIpAddress: ip,
    secondaryIpAddresses: [],
    name: id,
    description: '',
    securityGroupIds: groups,
    resourceGroupId: '',
    tags: [],
    queueNumber: 1,
    sourceDestCheck: false,
    deleteOnRelease: true,
    creationTime: '2024-01-01T00:00:00Z',
    ...over,
  };
}

let seq = 0;

/** A tcp 22 ingress accept from anywhere in sg-a, created after every earlier one. */
export function rule(id: string, over: Partial<Rule> = {}): Rule {
  return {
    id,
    securityGroupId: 'sg-a',
    direction: 'ingress',
    protocol: 'tcp',
    portRange: { from: 22, to: 22 },
    sourcePortRange: null,
    nicType: 'intranet',
    policy: 'accept',
    priority: 1,
    peerCidr: '0.0.0.0/0',
    peerIpv6Cidr: null,
    peerGroup: null,
    localCidr: null,
    localIpv6Cidr: null,
    peerCidrText: null,
    localCidrText: null,
    description: '',
    createTime: '2024-01-01T00:00:00Z',
    seq: ++seq,
    ...over,
  };
}
