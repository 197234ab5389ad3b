/** The model's types. Values here are already validated and normalised. */

export type Direction = 'ingress' | 'egress';
export type Protocol = 'tcp' | 'udp' | 'icmp' | 'gre' | 'all';
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
 * CIDRs are normalised network strings ("10.0.0.0/8", "2001:db8::/32").
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
  readonly name: string;
  readonly description: string;
  readonly securityGroupIds: readonly string[];
  readonly creationTime: string;
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
