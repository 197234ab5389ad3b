/**
 * A small v1-signed client for the enforcement tests: the model's objects made and changed
 * through the real API, the change feed, and CheckSecurityGroupTraffic.
 */
import assert from 'node:assert/strict';
import type { FeedPage } from '../../src/domain/feed.js';
import { decodePage } from '../../src/feed/wire.js';
import {
  type Credentials,
  ECS_VERSION,
  type Endpoint,
  type RawResponse,
  signedV1,
  VPC_VERSION,
} from '../helpers/clients.js';

export const REGION = 'cn-hangzhou';
export const ZONE = 'cn-hangzhou-b';

export interface RuleSpec {
  direction: 'ingress' | 'egress';
  protocol: 'tcp' | 'udp' | 'icmp' | 'gre' | 'all';
  /** `a/b`; default `-1/-1` for protocols without ports, `1/65535` for tcp/udp. */
  ports?: string;
  sourcePorts?: string;
  policy?: 'accept' | 'drop';
  priority?: number;
  /** The far end: a CIDR or a group id (sg-…). */
  peer: string;
  /** The near end (the interface side), a CIDR. */
  local?: string;
}

export interface Eni {
  id: string;
  ip: string;
  secondary: string[];
}

let descriptions = 0;

/** The parameters of a rule, each name after `prefix` (`''` or `Permissions.N.`). */
export function ruleParams(spec: RuleSpec, prefix: string): Record<string, string> {
  const ports = spec.protocol === 'tcp' || spec.protocol === 'udp';
  const params: Record<string, string> = {
    IpProtocol: spec.protocol,
    PortRange: spec.ports ?? (ports ? '1/65535' : '-1/-1'),
    Policy: spec.policy ?? 'accept',
    Priority: String(spec.priority ?? 1),
    NicType: 'intranet',
  };
  if (spec.sourcePorts) params.SourcePortRange = spec.sourcePorts;
  const ingress = spec.direction === 'ingress';
  const group = spec.peer.startsWith('sg-');
  params[
    group ? (ingress ? 'SourceGroupId' : 'DestGroupId') : ingress ? 'SourceCidrIp' : 'DestCidrIp'
  ] = spec.peer;
  if (spec.local) params[ingress ? 'DestCidrIp' : 'SourceCidrIp'] = spec.local;
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [prefix + k, v]));
}

export class Api {
  constructor(
    readonly srv: Endpoint,
    readonly creds: Credentials = {},
  ) {}

  raw(action: string, params: Record<string, string>, version = ECS_VERSION): Promise<RawResponse> {
    return signedV1(
      this.srv,
      { Action: action, Version: version, RegionId: REGION, ...params },
      this.creds,
    );
  }

  // biome-ignore lint/suspicious/noExplicitAny: response bodies are navigated freely
  async call(action: string, params: Record<string, string>, version = ECS_VERSION): Promise<any> {
    const r = await this.raw(action, params, version);
    assert.equal(r.status, 200, `${action} ${JSON.stringify(params)} → ${r.status} ${r.text}`);
    return r.body;
  }

  async vpc(cidr = '10.0.0.0/16'): Promise<string> {
    return (await this.call('CreateVpc', { CidrBlock: cidr }, VPC_VERSION)).VpcId;
  }

  async vswitch(vpcId: string, cidr: string): Promise<string> {
    return (
      await this.call('CreateVSwitch', { VpcId: vpcId, ZoneId: ZONE, CidrBlock: cidr }, VPC_VERSION)
    ).VSwitchId;
  }

  async group(
    vpcId: string | null,
    opts: { type?: 'normal' | 'enterprise'; inner?: 'Accept' | 'Drop' } = {},
  ): Promise<string> {
    const id = (
      await this.call('CreateSecurityGroup', {
        ...(vpcId ? { VpcId: vpcId } : {}),
        ...(opts.type ? { SecurityGroupType: opts.type } : {}),
      })
    ).SecurityGroupId;
    if (opts.inner) await this.innerAccess(id, opts.inner);
    return id;
  }

  innerAccess(groupId: string, policy: 'Accept' | 'Drop') {
    return this.call('ModifySecurityGroupPolicy', {
      SecurityGroupId: groupId,
      InnerAccessPolicy: policy,
    });
  }

  async eni(
    vSwitchId: string,
    groups: readonly string[],
    opts: { primary?: string; secondaries?: number } = {},
  ): Promise<Eni> {
    const params: Record<string, string> = { VSwitchId: vSwitchId };
    groups.forEach((g, i) => {
      params[`SecurityGroupIds.${i + 1}`] = g;
    });
    if (opts.primary) params.PrimaryIpAddress = opts.primary;
    if (opts.secondaries) params.SecondaryPrivateIpAddressCount = String(opts.secondaries);
    const body = await this.call('CreateNetworkInterface', params);
    const secondary = (body.PrivateIpSets?.PrivateIpSet ?? [])
      .filter((s: { Primary: boolean }) => !s.Primary)
      .map((s: { PrivateIpAddress: string }) => s.PrivateIpAddress);
    return { id: body.NetworkInterfaceId, ip: body.PrivateIpAddress, secondary };
  }

  deleteEni(id: string) {
    return this.call('DeleteNetworkInterface', { NetworkInterfaceId: id });
  }

  setGroups(eniId: string, groups: readonly string[]) {
    const params: Record<string, string> = { NetworkInterfaceId: eniId };
    groups.forEach((g, i) => {
      params[`SecurityGroupId.${i + 1}`] = g;
    });
    return this.call('ModifyNetworkInterfaceAttribute', params);
  }

  async assign(eniId: string, count: number): Promise<string[]> {
    const body = await this.call('AssignPrivateIpAddresses', {
      NetworkInterfaceId: eniId,
      SecondaryPrivateIpAddressCount: String(count),
    });
    return body.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress;
  }

  unassign(eniId: string, addresses: readonly string[]) {
    const params: Record<string, string> = { NetworkInterfaceId: eniId };
    addresses.forEach((a, i) => {
      params[`PrivateIpAddress.${i + 1}`] = a;
    });
    return this.call('UnassignPrivateIpAddresses', params);
  }

  /** Authorizes one rule; resolves to its id. */
  async allow(groupId: string, spec: RuleSpec): Promise<string> {
    const description = `r${process.pid}-${++descriptions}`;
    const params = { SecurityGroupId: groupId, ...ruleParams(spec, ''), Description: description };
    const ingress = spec.direction === 'ingress';
    await this.call(ingress ? 'AuthorizeSecurityGroup' : 'AuthorizeSecurityGroupEgress', params);
    const attr = await this.call('DescribeSecurityGroupAttribute', { SecurityGroupId: groupId });
    const rule = attr.Permissions.Permission.find(
      (p: { Description: string }) => p.Description === description,
    );
    assert.ok(rule, `the rule just authorized is listed: ${JSON.stringify(attr)}`);
    return rule.SecurityGroupRuleId;
  }

  /** Authorizes rules of one direction in one call (Permissions.N). */
  async allowMany(groupId: string, direction: 'ingress' | 'egress', specs: readonly RuleSpec[]) {
    if (specs.length === 0) return;
    const params: Record<string, string> = { SecurityGroupId: groupId };
    specs.forEach((spec, i) => {
      Object.assign(params, ruleParams(spec, `Permissions.${i + 1}.`));
    });
    await this.call(
      direction === 'ingress' ? 'AuthorizeSecurityGroup' : 'AuthorizeSecurityGroupEgress',
      params,
    );
  }

  revoke(groupId: string, direction: 'ingress' | 'egress', ruleId: string) {
    return this.call(
      direction === 'ingress' ? 'RevokeSecurityGroup' : 'RevokeSecurityGroupEgress',
      {
        SecurityGroupId: groupId,
        'SecurityGroupRuleId.1': ruleId,
      },
    );
  }

  /** A DescribeSecurityGroupChanges page. */
  async changes(params: Record<string, string> = {}): Promise<FeedPage> {
    return decodePage(await this.call('DescribeSecurityGroupChanges', params));
  }

  /** CheckSecurityGroupTraffic at one interface. */
  async check(params: Record<string, string>): Promise<'accept' | 'drop'> {
    const body = await this.call('CheckSecurityGroupTraffic', params);
    return body.Verdict === 'Accept' ? 'accept' : 'drop';
  }
}
