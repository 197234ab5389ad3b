/** The model's types. Values here are already validated and normalised. */

export type Direction = 'ingress' | 'egress';
/** `icmp` is ICMP for IPv4, `icmpv6` ICMP for IPv6 (rules with IPv6 far ends only). */
export type Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'gre' | 'all';
export type Policy = 'accept' | 'drop';
export type NicType = 'internet' | 'intranet';
export type GroupType = 'normal' | 'enterprise';
export type InnerAccessPolicy = 'Accept' | 'Drop';

/** An inclusive port range; `{from: -1, to: -1}` stands for "no ports" (icmp, gre, all). */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** A security group referenced by a rule: its id and the uid of the account that owns it. */
export interface GroupRef {
  readonly groupId: string;
  readonly ownerUid: string;
}

/**
 * A security-group rule, told from the instance's side:
 * - `peer*` is the far end (SourceCidrIp/Ipv6SourceCidrIp/SourceGroupId on ingress,
 *   DestCidrIp/Ipv6DestCidrIp/DestGroupId on egress); exactly one of them is set.
 * - `local*` is the optional near end (DestCidrIp on ingress, SourceCidrIp on egress),
 *   restricting the instance-side address.
 * CIDRs are normalised network strings ("10.0.0.0/8", "2001:db8::/32"): identity,
 * duplicates and decisions use them. `peerCidrText`/`localCidrText` keep what the caller
 * wrote ("10.1.2.3/8", "1.2.3.4"; IPv6 in RFC 5952 spelling), which Describe returns.
 */
export interface Rule {
  readonly id: string;
  readonly securityGroupId: string;
  readonly direction: Direction;
  readonly protocol: Protocol;
  readonly portRange: PortRange;
  /** null when SourcePortRange was not given. */
  readonly sourcePortRange: PortRange | null;
  readonly nicType: NicType;
  readonly policy: Policy;
  readonly priority: number;
  readonly peerCidr: string | null;
  readonly peerIpv6Cidr: string | null;
  readonly peerGroup: GroupRef | null;
  readonly localCidr: string | null;
  readonly localIpv6Cidr: string | null;
  /** The far-end CIDR (IPv4 or IPv6) as written; null for a group rule or when as normalised. */
  readonly peerCidrText: string | null;
  /** The near-end CIDR as written; null when there is none or it is as normalised. */
  readonly localCidrText: string | null;
  readonly description: string;
  /** Creation time, `YYYY-MM-DDThh:mm:ssZ`. */
  readonly createTime: string;
  /** Monotonic creation order inside the store (ties on createTime). */
  readonly seq: number;
}

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export interface SecurityGroup {
  readonly id: string;
  readonly ownerUid: string;
  readonly regionId: string;
  readonly name: string;
  readonly description: string;
  /** null for a classic-network group. */
  readonly vpcId: string | null;
  readonly type: GroupType;
  readonly innerAccessPolicy: InnerAccessPolicy;
  readonly resourceGroupId: string;
  readonly tags: readonly Tag[];
  readonly creationTime: string;
}

export interface Vpc {
  readonly id: string;
  readonly ownerUid: string;
  readonly regionId: string;
  readonly cidrBlock: string;
  readonly name: string;
  readonly description: string;
  readonly resourceGroupId: string;
  readonly tags: readonly Tag[];
  readonly creationTime: string;
}

export interface VSwitch {
  readonly id: string;
  readonly ownerUid: string;
  readonly regionId: string;
  readonly vpcId: string;
  readonly zoneId: string;
  readonly cidrBlock: string;
  readonly name: string;
  readonly description: string;
  /** The resource group of its VPC when it was created (vSwitches have none of their own). */
  readonly resourceGroupId: string;
  readonly tags: readonly Tag[];
  readonly creationTime: string;
}

/** An elastic network interface: the endpoint that security groups protect. */
export interface NetworkInterface {
  readonly id: string;
  readonly ownerUid: string;
  readonly regionId: string;
  readonly vpcId: string;
  readonly vSwitchId: string;
  readonly zoneId: string;
  readonly primaryIpAddress: string;
  /** Secondary private IPv4 addresses, in assignment order. */
  readonly secondaryIpAddresses: readonly string[];
  readonly name: string;
  readonly description: string;
  readonly securityGroupIds: readonly string[];
  readonly resourceGroupId: string;
  readonly tags: readonly Tag[];
  /** Queues of the interface (1-2048); shown and changed, no effect here. */
  readonly queueNumber: number;
  readonly sourceDestCheck: boolean;
  readonly deleteOnRelease: boolean;
  readonly creationTime: string;
}

/** Every private address of an interface: the primary first, then the secondaries. */
export function interfaceAddresses(e: NetworkInterface): readonly string[] {
  return e.secondaryIpAddresses.length === 0
    ? [e.primaryIpAddress]
    : [e.primaryIpAddress, ...e.secondaryIpAddresses];
}

export interface AccessKey {
  readonly id: string;
  readonly secret: string;
}

export interface Account {
  readonly uid: string;
  readonly name: string;
  readonly accessKeys: readonly AccessKey[];
}
