/**
 * Parses one permission (the flat parameters or one `Permissions.N.*` group) into
 * typed, syntactically valid values. What needs the model (defaults that depend
 * on the group, group references, limits) is decided by the domain.
 */
import { type Cidr, parseIpv4Cidr, parseIpv6Cidr } from '../domain/cidr.js';
import type { FarEnd, PermissionInput } from '../domain/rules.js';
import type { Direction, PortRange, Protocol } from '../domain/types.js';
import { apiError, type ErrorKey } from '../errors.js';
import type { Params } from './params.js';

const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'all'];

/** The wire names of the two ends, per direction. */
export function endNames(direction: Direction) {
  return direction === 'ingress'
    ? {
        cidr: 'SourceCidrIp',
        ipv6: 'Ipv6SourceCidrIp',
        group: 'SourceGroupId',
        ownerAccount: 'SourceGroupOwnerAccount',
        ownerId: 'SourceGroupOwnerId',
        localCidr: 'DestCidrIp',
        localIpv6: 'Ipv6DestCidrIp',
      }
    : {
        cidr: 'DestCidrIp',
        ipv6: 'Ipv6DestCidrIp',
        group: 'DestGroupId',
        ownerAccount: 'DestGroupOwnerAccount',
        ownerId: 'DestGroupOwnerId',
        localCidr: 'SourceCidrIp',
        localIpv6: 'Ipv6SourceCidrIp',
      };
}

export function parseProtocol(p: Params): Protocol {
  const v = p.req('IpProtocol');
  if (!/^[A-Za-z][A-Za-z0-9]{0,15}$/.test(v)) throw apiError('InvalidIpProtocol.Malformed');
  const found = PROTOCOLS.find((x) => x === v.toLowerCase());
  if (!found) throw apiError('InvalidIpProtocol.ValueNotSupported');
  return found;
}

const RANGE = /^(-1|[1-9]\d{0,4})\/(-1|[1-9]\d{0,4})$/;

/** `a/b` with 1 ≤ a ≤ b ≤ 65535, or `-1/-1`; then it must fit the protocol. */
export function parsePortRange(value: string, protocol: Protocol): PortRange {
  const m = RANGE.exec(value);
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  const wellFormed =
    m !== null && (from === -1 ? to === -1 : to !== -1 && from <= to && to <= 65535);
  if (!wellFormed) throw apiError('InvalidParam.PortRange');
  const portful = protocol === 'tcp' || protocol === 'udp';
  if (portful === (from === -1)) throw apiError('OperationDenied');
  return { from, to };
}

export function parsePolicy(p: Params) {
  const v = p.opt('Policy');
  if (v === undefined) return 'accept' as const;
  const l = v.toLowerCase();
  if (l === 'accept' || l === 'allow') return 'accept' as const;
  if (l === 'drop') return 'drop' as const;
  throw apiError('InvalidPolicy.Malformed');
}

export function parsePriority(p: Params): number {
  const v = p.opt('Priority');
  if (v === undefined) return 1;
  if (!/^[-+]?\d{1,12}$/.test(v)) throw apiError('InvalidPriority.Malformed');
  const n = Number(v);
  if (n < 1 || n > 100) throw apiError('InvalidPriority.ValueNotSupported');
  return n;
}

export function parseNicType(p: Params) {
  const v = p.opt('NicType');
  if (v === undefined) return undefined;
  const l = v.toLowerCase();
  if (l === 'internet' || l === 'intranet') return l;
  throw apiError('InvalidNicType.ValueNotSupported');
}

/** Rule description: 1-512 characters, not starting with http:// or https://. */
export function parseRuleDescription(p: Params): string {
  const v = p.opt('Description');
  if (v === undefined) return '';
  if ([...v].length > 512 || /^https?:\/\//i.test(v)) {
    throw apiError('InvalidSecurityGroupDiscription.Malformed');
  }
  return v;
}

function ipv4Param(p: Params, name: string, malformed: ErrorKey, v6Given: ErrorKey): Cidr | null {
  const v = p.opt(name);
  if (v === undefined) return null;
  const c = parseIpv4Cidr(v);
  if (c) return c;
  const asV6 = parseIpv6Cidr(v);
  if (asV6 !== undefined) {
    throw apiError(v6Given, `${p.prefix}${name} takes IPv4 (got ${v}); use the Ipv6 parameter.`);
  }
  throw apiError(malformed);
}

function ipv6Param(p: Params, name: string, malformed: ErrorKey): Cidr | null {
  const v = p.opt(name);
  if (v === undefined) return null;
  const c = parseIpv6Cidr(v);
  if (c === 'bad-prefix') {
    throw apiError(
      'ILLEGAL_IPV6_CIDR',
      `The prefix length of ${p.prefix}${name} (${v}) is not 0-128.`,
    );
  }
  if (c === undefined) {
    throw apiError(
      malformed,
      `The specified parameter ${p.prefix}${name} (${v}) is not a valid IPv6 address or CIDR block.`,
    );
  }
  return c;
}

/** Parses a whole permission for `direction`. */
export function parsePermission(p: Params, direction: Direction): PermissionInput {
  const n = endNames(direction);
  const protocol = parseProtocol(p);
  const portRange = parsePortRange(p.req('PortRange'), protocol);
  const sp = p.opt('SourcePortRange');
  let sourcePortRange = sp === undefined ? null : parsePortRange(sp, protocol);
  if (sourcePortRange?.from === -1) sourcePortRange = null; // -1/-1 means "any": same as unset
  const policy = parsePolicy(p);
  const priority = parsePriority(p);
  const nicType = parseNicType(p);
  const description = parseRuleDescription(p);

  const ingress = direction === 'ingress';
  const srcCidr = ipv4Param(
    p,
    'SourceCidrIp',
    'InvalidSourceCidrIp.Malformed',
    'InvalidParam.SourceIp',
  );
  const dstCidr = ipv4Param(p, 'DestCidrIp', 'InvalidDestCidrIp.Malformed', 'InvalidParam.DestIp');
  const srcV6 = ipv6Param(p, 'Ipv6SourceCidrIp', 'InvalidParam.Ipv6SourceCidrIp');
  const dstV6 = ipv6Param(p, 'Ipv6DestCidrIp', 'InvalidParam.Ipv6DestCidrIp');
  const [farV4, farV6, nearV4, nearV6] = ingress
    ? [srcCidr, srcV6, dstCidr, dstV6]
    : [dstCidr, dstV6, srcCidr, srcV6];

  if (farV4 && (farV6 || nearV6)) {
    throw apiError(
      'InvalidParam.Ipv4ProtocolConflictWithIpv6Address',
      `${n.cidr} is IPv4; the rule may not also carry an IPv6 address.`,
    );
  }
  if (farV6 && nearV4) {
    throw apiError(
      'InvalidParam.Ipv6ProtocolConflictWithIpv4Address',
      `${n.ipv6} is IPv6; the rule may not also carry an IPv4 address (${n.localCidr}).`,
    );
  }

  let far: FarEnd;
  if (farV4) far = { kind: 'cidr', cidr: farV4.text, written: farV4.written };
  else if (farV6) far = { kind: 'ipv6', cidr: farV6.text, written: farV6.written };
  else {
    const groupId = p.opt(n.group);
    const ownerAccount = p.opt(n.ownerAccount);
    const ownerId = p.opt(n.ownerId);
    if (groupId === undefined) {
      if (!ingress && (ownerAccount !== undefined || ownerId !== undefined)) {
        throw apiError('MissingParameter.Dest');
      }
      throw apiError(ingress ? 'MissingParameter#source' : 'MissingParameter#dest');
    }
    if (ownerId !== undefined && !/^\d{1,20}$/.test(ownerId)) {
      throw apiError('InvalidParameter', p.prefix + n.ownerId);
    }
    far = { kind: 'group', groupId, ownerAccount, ownerId };
  }
  if (far.kind === 'group' && nearV6) {
    throw apiError(
      'InvalidParam.Ipv4ProtocolConflictWithIpv6Address',
      `A rule that names ${n.group} (IPv4 members) may not carry ${n.localIpv6}.`,
    );
  }
  if (protocol === 'icmpv6' && far.kind !== 'ipv6') {
    throw apiError(
      'InvalidParam.Ipv6ProtocolConflictWithIpv4Address',
      `IpProtocol ICMPv6 is IPv6: the far end must be ${n.ipv6}, not ${far.kind === 'group' ? n.group : n.cidr}.`,
    );
  }

  return {
    direction,
    protocol,
    portRange,
    sourcePortRange,
    nicType,
    policy,
    priority,
    far,
    localCidr: nearV4?.text ?? null,
    localIpv6Cidr: nearV6?.text ?? null,
    localText: nearV4?.written ?? nearV6?.written ?? null,
    description,
  };
}

/** The flat rule parameters (those `Permissions.N.*` repeats). */
const FLAT_NAMES = [
  'IpProtocol',
  'PortRange',
  'SourcePortRange',
  'Policy',
  'Priority',
  'NicType',
  'Description',
  'SourceCidrIp',
  'DestCidrIp',
  'Ipv6SourceCidrIp',
  'Ipv6DestCidrIp',
  'SourceGroupId',
  'DestGroupId',
  'SourceGroupOwnerAccount',
  'SourceGroupOwnerId',
  'DestGroupOwnerAccount',
  'DestGroupOwnerId',
];

/**
 * The permissions of an Authorize/Revoke call: the flat form or `Permissions.N.*`
 * (1-100), never both.
 */
export function parsePermissions(p: Params, direction: Direction): PermissionInput[] {
  const indexed = p.indexed('Permissions', 100);
  const flat = p.hasAny(FLAT_NAMES);
  if (indexed.size > 0 && flat) {
    throw apiError(
      'InvalidParameter.Conflict',
      'The flat rule parameters and Permissions.N.* may not be mixed in one call.',
    );
  }
  if (indexed.size === 0) return [parsePermission(p, direction)];
  return [...indexed.values()].map((sub) => parsePermission(sub, direction));
}
