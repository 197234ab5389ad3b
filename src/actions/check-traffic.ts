/**
 * CheckSecurityGroupTraffic — an action of this product, not of the public cloud:
 * asks the decision engine whether a packet is accepted and which rule decided.
 */
import { isIpv6, parseIpv4 } from '../domain/cidr.js';
import { ownInterface } from '../domain/network.js';
import type { NetworkInterface } from '../domain/types.js';
import {
  type Decision,
  makePacket,
  type PacketProtocol,
  UnknownInterfaceError,
} from '../engine/index.js';
import { apiError } from '../errors.js';
import { type ActionDef, type Call, ECS, type Services } from './context.js';
import { Params } from './params.js';

const REASONS = {
  rule: 'Rule',
  default: 'Default',
  'inner-access': 'InnerAccess',
  established: 'Established',
} as const;

/** The decision fields of an answer: verdict, reason, and the deciding rule when there is one. */
export function decisionView(d: Decision) {
  return {
    Verdict: d.verdict === 'accept' ? 'Accept' : 'Drop',
    Reason: REASONS[d.reason],
    SecurityGroupId: d.rule?.securityGroupId ?? '',
    SecurityGroupRuleId: d.rule?.securityGroupRuleId ?? '',
    Priority: d.rule ? String(d.rule.priority) : '',
    Policy: d.rule ? (d.rule.policy === 'accept' ? 'Accept' : 'Drop') : '',
  };
}

function ip(p: Params, name: string, fallback?: string): string {
  const v = p.opt(name) ?? fallback;
  if (v === undefined) throw apiError('MissingParameter', name);
  if (parseIpv4(v) === undefined && !isIpv6(v)) {
    throw apiError('InvalidParameter.Value', name, `${v} is not an IPv4 or IPv6 address`);
  }
  return v;
}

function port(p: Params, name: string, needed: boolean): number {
  const v = p.opt(name);
  if (v === undefined) {
    if (needed) throw apiError('MissingParameter', name);
    return 0;
  }
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) {
    throw apiError('InvalidParameter.Value', name, `${v} is not a port number (0-65535)`);
  }
  return Number(v);
}

/** An interface deleted between the ownership check and the decision is simply not found. */
function decideOrNotFound<T>(decide: () => T): T {
  try {
    return decide();
  } catch (e) {
    if (e instanceof UnknownInterfaceError) throw apiError('InvalidEniId.NotFound');
    throw e;
  }
}

async function interfaces(svc: Services, call: Call, regionId: string, ids: string[]) {
  return svc.store.read(async (tx) => {
    const out: NetworkInterface[] = [];
    for (const id of ids) out.push(await ownInterface(tx, call.principal.uid, regionId, id));
    return out;
  });
}

export const checkSecurityGroupTraffic: ActionDef = {
  version: ECS,
  name: 'CheckSecurityGroupTraffic',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const protocol = p.oneOf(
      'IpProtocol',
      ['tcp', 'udp', 'icmp', 'icmpv6', 'gre'] as const,
      'InvalidIpProtocol.ValueNotSupported',
    ) as PacketProtocol | undefined;
    if (!protocol) throw apiError('MissingParameter', 'IpProtocol');
    const ports = protocol === 'tcp' || protocol === 'udp';

    if (p.has('SourceNetworkInterfaceId') || p.has('DestNetworkInterfaceId')) {
      const srcId = p.req('SourceNetworkInterfaceId');
      const dstId = p.req('DestNetworkInterfaceId');
      const srcPort = port(p, 'SourcePort', ports);
      const dstPort = port(p, 'DestPort', ports);
      await interfaces(svc, call, regionId, [srcId, dstId]);
      const d = decideOrNotFound(() =>
        svc.engine.decideBetween(srcId, dstId, protocol, srcPort, dstPort),
      );
      const both = d.verdict === 'accept';
      const decisive = !both && d.egress.verdict === 'drop' ? d.egress : d.ingress;
      return {
        ...decisionView(decisive),
        Verdict: both ? 'Accept' : 'Drop',
        Egress: decisionView(d.egress),
        Ingress: decisionView(d.ingress),
      };
    }

    const eniId = p.req('NetworkInterfaceId');
    const direction = p.oneOf('Direction', ['ingress', 'egress'] as const, 'InvalidParameter');
    if (!direction) throw apiError('MissingParameter', 'Direction');
    const peerIp = ip(p, 'PeerIp');
    const peerPort = port(p, 'PeerPort', ports);
    const localPort = port(p, 'LocalPort', ports);
    const nicType = p.oneOf(
      'NicType',
      ['internet', 'intranet'] as const,
      'InvalidNicType.ValueNotSupported',
    );
    const [eni] = await interfaces(svc, call, regionId, [eniId]);
    const localIp = ip(p, 'LocalIp', eni!.primaryIpAddress);
    const d = decideOrNotFound(() =>
      svc.engine.decide(
        makePacket({
          interfaceId: eniId,
          direction,
          protocol,
          localAddr: localIp,
          localPort,
          peerAddr: peerIp,
          peerPort,
          nicType: nicType ?? 'intranet',
        }),
      ),
    );
    return decisionView(d);
  },
};
