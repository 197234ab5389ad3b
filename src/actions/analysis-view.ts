/**
 * Wire views of an analysis: `Rules.Rule[]`, `Findings.Finding[]`, `Changes.Change[]`, and
 * witness packets in the parameters CheckSecurityGroupTraffic takes.
 */
import type {
  Analysis,
  ChangeResult,
  Finding,
  RuleResult,
  Witness,
} from '../engine/analyze/index.js';
import { formatAddr } from '../engine/index.js';
import { decisionView } from './check-traffic.js';

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A packet as CheckSecurityGroupTraffic's parameters (at `interfaceId`, when there is one). */
export function witnessView(w: Witness, interfaceId?: string) {
  return {
    ...(interfaceId === undefined ? {} : { NetworkInterfaceId: interfaceId }),
    Direction: w.direction,
    IpProtocol: w.protocol,
    PeerIp: formatAddr(w.peer),
    ...(w.peerPort === undefined ? {} : { PeerPort: w.peerPort }),
    ...(w.localPort === undefined ? {} : { LocalPort: w.localPort }),
    LocalIp: formatAddr(w.local),
    NicType: w.nicType,
  };
}

function ruleView(r: RuleResult, interfaceId: string | undefined) {
  const base = {
    SecurityGroupId: r.rule.securityGroupId,
    SecurityGroupRuleId: r.rule.id,
    Direction: r.rule.direction,
    Priority: String(r.rule.priority),
    Policy: cap(r.rule.policy),
    Reachable: r.reachable,
  };
  if (r.reachable) return { ...base, Witness: witnessView(r.witness!, interfaceId) };
  return {
    ...base,
    Kind: r.kind,
    BlockedBy: {
      SecurityGroupRuleId: r.blockedBy.map((b) => b.id),
      InnerAccess: r.blockedByInnerAccess,
      ...(interfaceId === undefined ? {} : { OtherGroups: r.blockedByOtherGroups }),
    },
  };
}

function findingView(f: Finding, interfaceId: string | undefined) {
  return {
    Type: f.type,
    Severity: f.severity,
    SecurityGroupRuleIds: { SecurityGroupRuleId: f.rules.map((r) => r.id) },
    ...(f.witness === null ? {} : { Witness: witnessView(f.witness, interfaceId) }),
    Message: f.message,
    ...(f.port === undefined
      ? {}
      : {
          Port: f.port,
          PublicIpv4Addresses: String(f.reach![4]),
          PublicIpv6Addresses: String(f.reach![6]),
          InnerAccess: f.innerAccess ?? false,
        }),
  };
}

function changeView(c: ChangeResult, interfaceId: string | undefined) {
  const by = (d: ChangeResult['before']) =>
    d.rule !== undefined
      ? d.rule.securityGroupRuleId
      : d.reason === 'inner-access'
        ? 'inner access'
        : 'the default';
  return {
    Direction: c.direction,
    Witness: witnessView(c.witness, interfaceId),
    Before: decisionView(c.before),
    After: decisionView(c.after),
    Message: `${c.direction} packets ${c.before.verdict === 'accept' ? 'accepted' : 'dropped'} by ${by(c.before)} would be ${c.after.verdict === 'accept' ? 'accepted' : 'dropped'} by ${by(c.after)}.`,
  };
}

/** The `Rules`, `Findings` and `Changes` of a response. */
export function analysisView(a: Analysis, interfaceId?: string) {
  return {
    Rules: { Rule: a.rules.map((r) => ruleView(r, interfaceId)) },
    Findings: { Finding: a.findings.map((f) => findingView(f, interfaceId)) },
    Changes: { Change: a.changes.map((c) => changeView(c, interfaceId)) },
  };
}
