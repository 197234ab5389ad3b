/**
 * CheckSecurityGroupTraffic through the real server: the rules of the seed documents decided
 * as the seeds mean them, priorities, inner access, the interface-to-interface form, changes
 * seen at once, and the action's errors. Setup goes through the official SDKs; the check
 * itself (not in the SDK) is a v1-signed request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import * as $Vpc from '@alicloud/vpc20160428';
import {
  ECS_VERSION,
  type EcsClient,
  ecsClient,
  expectApiError,
  type RawResponse,
  signedV1,
  vpcClient,
} from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  accountsFile,
  REQUEST_ID,
  sdkEni,
  sdkGroup,
  type TestAccount,
  vpcWithVSwitch,
} from './support.js';

const R = 'cn-hangzhou';
const ME: TestAccount = {
  uid: '1000000000000001',
  name: 'me@example.com',
  accessKeyId: 'test',
  secret: 'test',
};
const OTHER: TestAccount = {
  uid: '1000000000000077',
  name: 'other@example.com',
  accessKeyId: 'ak-other',
  secret: 'sk-other',
};

let srv: TestServer;
let ecs: EcsClient;
let vpcId = '';
let vswId = '';

// ------------------------------------------------------------------------------ helpers

const group = (extra: Partial<$Ecs.CreateSecurityGroupRequest> = {}) => sdkGroup(ecs, vpcId, extra);

interface Eni {
  id: string;
  ip: string;
}

const eni = (securityGroupIds: string[], primaryIpAddress?: string): Promise<Eni> =>
  sdkEni(ecs, vswId, securityGroupIds, primaryIpAddress);

/** The id of the rule of `groupId` whose Description is `description`. */
async function ruleId(groupId: string, description: string): Promise<string> {
  const r = await ecs.describeSecurityGroupAttribute(
    new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: groupId }),
  );
  const found = (r.body!.permissions?.permission ?? []).filter(
    (p) => p.description === description,
  );
  assert.equal(found.length, 1, `one rule described ${description} in ${groupId}`);
  return found[0]!.securityGroupRuleId!;
}

/** AuthorizeSecurityGroup (ingress) with a Description to find the rule by; returns its id. */
async function allowIn(
  groupId: string,
  description: string,
  p: Partial<$Ecs.AuthorizeSecurityGroupRequest>,
): Promise<string> {
  await ecs.authorizeSecurityGroup(
    new $Ecs.AuthorizeSecurityGroupRequest({
      regionId: R,
      securityGroupId: groupId,
      description,
      ...p,
    }),
  );
  return ruleId(groupId, description);
}

async function allowOut(
  groupId: string,
  description: string,
  p: Partial<$Ecs.AuthorizeSecurityGroupEgressRequest>,
): Promise<string> {
  await ecs.authorizeSecurityGroupEgress(
    new $Ecs.AuthorizeSecurityGroupEgressRequest({
      regionId: R,
      securityGroupId: groupId,
      description,
      ...p,
    }),
  );
  return ruleId(groupId, description);
}

const setPolicy = (securityGroupId: string, innerAccessPolicy: 'Accept' | 'Drop') =>
  ecs.modifySecurityGroupPolicy(
    new $Ecs.ModifySecurityGroupPolicyRequest({ regionId: R, securityGroupId, innerAccessPolicy }),
  );

/** The raw CheckSecurityGroupTraffic call (v1 signature, RegionId defaulted). */
function checkRaw(
  params: Record<string, string>,
  creds: { accessKeyId?: string; secret?: string } = {},
): Promise<RawResponse> {
  return signedV1(
    srv,
    { Action: 'CheckSecurityGroupTraffic', Version: ECS_VERSION, RegionId: R, ...params },
    creds,
  );
}

type View = {
  Verdict: string;
  Reason: string;
  SecurityGroupId: string;
  SecurityGroupRuleId: string;
  Priority: string;
  Policy: string;
};
type Answer = View & { RequestId: string; Egress?: View; Ingress?: View };

async function check(params: Record<string, string>): Promise<Answer> {
  const r = await checkRaw(params);
  assert.equal(r.status, 200, `${JSON.stringify(params)} → ${r.status} ${r.text}`);
  assert.equal(r.body.Code, undefined, r.text);
  assert.match(r.body.RequestId, REQUEST_ID);
  return r.body as Answer;
}

/** Traffic from `peer` (port `peerPort`) to the interface's `localPort`. */
const ingress = (e: Eni, proto: string, peer: string, localPort?: number, peerPort = 49152) =>
  check({
    NetworkInterfaceId: e.id,
    Direction: 'ingress',
    IpProtocol: proto,
    PeerIp: peer,
    ...(localPort === undefined
      ? {}
      : { LocalPort: String(localPort), PeerPort: String(peerPort) }),
  });

/** Traffic from the interface (port `localPort`) to `peer`'s `peerPort`. */
const egress = (e: Eni, proto: string, peer: string, peerPort?: number, localPort = 49152) =>
  check({
    NetworkInterfaceId: e.id,
    Direction: 'egress',
    IpProtocol: proto,
    PeerIp: peer,
    ...(peerPort === undefined ? {} : { PeerPort: String(peerPort), LocalPort: String(localPort) }),
  });

const between = (src: Eni, dst: Eni, proto: string, destPort?: number, sourcePort = 49152) =>
  check({
    SourceNetworkInterfaceId: src.id,
    DestNetworkInterfaceId: dst.id,
    IpProtocol: proto,
    ...(destPort === undefined
      ? {}
      : { DestPort: String(destPort), SourcePort: String(sourcePort) }),
  });

/** The view fields of a decision made by a rule. */
function byRule(
  v: View,
  verdict: 'Accept' | 'Drop',
  groupId: string,
  rule: string,
  priority: number,
) {
  assert.deepEqual(
    {
      Verdict: v.Verdict,
      Reason: v.Reason,
      SecurityGroupId: v.SecurityGroupId,
      SecurityGroupRuleId: v.SecurityGroupRuleId,
      Priority: v.Priority,
      Policy: v.Policy,
    },
    {
      Verdict: verdict,
      Reason: 'Rule',
      SecurityGroupId: groupId,
      SecurityGroupRuleId: rule,
      Priority: String(priority),
      Policy: verdict,
    },
  );
}

/** The view fields of a decision no rule made. */
function noRule(v: View, verdict: 'Accept' | 'Drop', reason: 'Default' | 'InnerAccess') {
  assert.deepEqual(
    {
      Verdict: v.Verdict,
      Reason: v.Reason,
      SecurityGroupId: v.SecurityGroupId,
      SecurityGroupRuleId: v.SecurityGroupRuleId,
      Priority: v.Priority,
      Policy: v.Policy,
    },
    {
      Verdict: verdict,
      Reason: reason,
      SecurityGroupId: '',
      SecurityGroupRuleId: '',
      Priority: '',
      Policy: '',
    },
  );
}

before(async () => {
  srv = await startServer({ accounts: accountsFile(ME, OTHER) });
  ecs = ecsClient(srv);
  ({ vpcId, vSwitchId: vswId } = await vpcWithVSwitch(vpcClient(srv)));
});

after(() => srv?.stop());

// ------------------------------------------------------------------------------ the seeds

describe('the seed examples, decided as the seeds mean them', () => {
  test('egress icmp DestCidrIp=10.0.0.0/8 Policy=Allow (enterprise group): ICMP to 10.1.2.3 accepted by the rule, the rest dropped by default', async () => {
    const g = await group({ securityGroupType: 'enterprise' });
    const rule = await allowOut(g, 'seed-icmp', {
      ipProtocol: 'icmp',
      destCidrIp: '10.0.0.0/8',
      portRange: '-1/-1',
      nicType: 'intranet',
      policy: 'Allow',
    });
    const e = await eni([g]);
    byRule(await egress(e, 'icmp', '10.1.2.3'), 'Accept', g, rule, 1);
    byRule(await egress(e, 'icmp', '10.255.255.254'), 'Accept', g, rule, 1);
    // outside 10.0.0.0/8, or another protocol: an enterprise group drops by default
    noRule(await egress(e, 'icmp', '192.168.1.1'), 'Drop', 'Default');
    noRule(await egress(e, 'icmp', '11.0.0.1'), 'Drop', 'Default');
    noRule(await egress(e, 'tcp', '10.1.2.3', 80), 'Drop', 'Default');
    noRule(await egress(e, 'udp', '10.1.2.3', 53), 'Drop', 'Default');
    // an egress rule says nothing about ingress
    noRule(await ingress(e, 'icmp', '10.1.2.3'), 'Drop', 'Default');
  });

  test('the same rule in a normal group: the default of egress is accept', async () => {
    const g = await group();
    const rule = await allowOut(g, 'seed-icmp', {
      ipProtocol: 'icmp',
      destCidrIp: '10.0.0.0/8',
      portRange: '-1/-1',
      nicType: 'intranet',
      policy: 'Allow',
    });
    const e = await eni([g]);
    byRule(await egress(e, 'icmp', '10.1.2.3'), 'Accept', g, rule, 1);
    noRule(await egress(e, 'icmp', '192.168.1.1'), 'Accept', 'Default');
    noRule(await egress(e, 'tcp', '192.168.1.1', 443), 'Accept', 'Default');
  });

  test('egress DestGroupId tcp 22/22 Policy=Drop: TCP 22 to an interface of the referenced group dropped by the rule; port 80 accepted by default', async () => {
    const a = await group();
    const b = await group();
    const rule = await allowOut(a, 'seed-ssh-drop', {
      destGroupId: b,
      ipProtocol: 'tcp',
      portRange: '22/22',
      nicType: 'intranet',
      policy: 'Drop',
    });
    const src = await eni([a]);
    const dst = await eni([b]);
    const outsider = await eni([a]);
    byRule(await egress(src, 'tcp', dst.ip, 22), 'Drop', a, rule, 1);
    noRule(await egress(src, 'tcp', dst.ip, 80), 'Accept', 'Default');
    noRule(await egress(src, 'tcp', dst.ip, 23), 'Accept', 'Default');
    noRule(await egress(src, 'udp', dst.ip, 22), 'Accept', 'Default');
    // an address not held by a member of the referenced group is not matched (the outsider
    // shares group a, whose Accept inner access lets members reach each other first)
    noRule(await egress(src, 'tcp', outsider.ip, 22), 'Accept', 'InnerAccess'); // shares a (Accept)
    noRule(await egress(src, 'tcp', '10.0.1.250', 22), 'Accept', 'Default');
    noRule(await egress(src, 'tcp', '8.8.8.8', 22), 'Accept', 'Default');
  });

  test('ingress SourceCidrIp=0.0.0.0/0 tcp 1/65535: TCP accepted from anywhere, UDP dropped by default', async () => {
    const g = await group();
    const rule = await allowIn(g, 'seed-all-tcp', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '1/65535',
      nicType: 'intranet',
      policy: 'accept',
    });
    const e = await eni([g]);
    for (const [peer, port] of [
      ['203.0.113.9', 443],
      ['8.8.8.8', 1],
      ['10.0.1.250', 65535],
      ['255.255.255.255', 22],
    ] as const) {
      byRule(await ingress(e, 'tcp', peer, port), 'Accept', g, rule, 1);
    }
    noRule(await ingress(e, 'udp', '203.0.113.9', 53), 'Drop', 'Default');
    noRule(await ingress(e, 'icmp', '203.0.113.9'), 'Drop', 'Default');
    noRule(await ingress(e, 'gre', '203.0.113.9'), 'Drop', 'Default');
  });
});

// ------------------------------------------------------------------------------ priorities

describe('priorities', () => {
  test('drop beats accept at equal priority', async () => {
    const g = await group();
    await allowIn(g, 'accept-80', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '80/80',
      priority: '5',
      policy: 'accept',
    });
    const drop = await allowIn(g, 'drop-80', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '80/80',
      priority: '5',
      policy: 'drop',
    });
    const e = await eni([g]);
    byRule(await ingress(e, 'tcp', '198.51.100.1', 80), 'Drop', g, drop, 5);
    // a more specific accept at the same priority loses as well
    await allowIn(g, 'accept-80-narrow', {
      sourceCidrIp: '198.51.100.1/32',
      ipProtocol: 'tcp',
      portRange: '80/80',
      priority: '5',
      policy: 'accept',
    });
    byRule(await ingress(e, 'tcp', '198.51.100.1', 80), 'Drop', g, drop, 5);
    // ... and a smaller number wins over the drop
    const first = await allowIn(g, 'accept-80-first', {
      sourceCidrIp: '198.51.100.0/24',
      ipProtocol: 'tcp',
      portRange: '80/80',
      priority: '4',
      policy: 'accept',
    });
    byRule(await ingress(e, 'tcp', '198.51.100.1', 80), 'Accept', g, first, 4);
    byRule(await ingress(e, 'tcp', '203.0.113.1', 80), 'Drop', g, drop, 5);
  });

  test('a priority-1 accept beats a priority-2 drop; the priority-2 drop decides the rest', async () => {
    const g = await group();
    const drop = await allowIn(g, 'drop-all-22', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '22/22',
      priority: '2',
      policy: 'drop',
    });
    const accept = await allowIn(g, 'accept-lan-22', {
      sourceCidrIp: '10.0.0.0/8',
      ipProtocol: 'tcp',
      portRange: '22/22',
      priority: '1',
      policy: 'accept',
    });
    const e = await eni([g]);
    byRule(await ingress(e, 'tcp', '10.2.3.4', 22), 'Accept', g, accept, 1);
    byRule(await ingress(e, 'tcp', '11.0.0.1', 22), 'Drop', g, drop, 2);
    noRule(await ingress(e, 'tcp', '10.2.3.4', 23), 'Drop', 'Default');
  });

  test('the smaller number wins even over a more specific CIDR', async () => {
    const g = await group();
    const drop = await allowIn(g, 'drop-443', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '443/443',
      priority: '1',
      policy: 'drop',
    });
    await allowIn(g, 'accept-443-host', {
      sourceCidrIp: '10.9.9.9/32',
      ipProtocol: 'tcp',
      portRange: '443/443',
      priority: '2',
      policy: 'accept',
    });
    const e = await eni([g]);
    byRule(await ingress(e, 'tcp', '10.9.9.9', 443), 'Drop', g, drop, 1);
  });

  test('rules of all the interface’s groups compete; protocol all matches every protocol', async () => {
    const g1 = await group();
    const g2 = await group();
    const all = await allowIn(g1, 'all-from-lan', {
      sourceCidrIp: '172.16.0.0/12',
      ipProtocol: 'all',
      portRange: '-1/-1',
      priority: '10',
      policy: 'accept',
    });
    const drop = await allowIn(g2, 'drop-udp', {
      sourceCidrIp: '172.16.0.0/12',
      ipProtocol: 'udp',
      portRange: '1/65535',
      priority: '3',
      policy: 'drop',
    });
    const e = await eni([g1, g2]);
    byRule(await ingress(e, 'tcp', '172.16.5.5', 8080), 'Accept', g1, all, 10);
    byRule(await ingress(e, 'icmp', '172.16.5.5'), 'Accept', g1, all, 10);
    byRule(await ingress(e, 'gre', '172.16.5.5'), 'Accept', g1, all, 10);
    byRule(await ingress(e, 'udp', '172.16.5.5', 53), 'Drop', g2, drop, 3);
    noRule(await ingress(e, 'tcp', '192.168.0.1', 8080), 'Drop', 'Default');
  });

  test('the near end: an ingress DestCidrIp is matched against LocalIp (default the primary address)', async () => {
    const g = await group();
    const rule = await allowIn(g, 'mysql-low-addresses', {
      sourceCidrIp: '0.0.0.0/0',
      destCidrIp: '10.0.1.0/28',
      ipProtocol: 'tcp',
      portRange: '3306/3306',
      policy: 'accept',
    });
    const e = await eni([g], '10.0.1.200');
    noRule(await ingress(e, 'tcp', '203.0.113.2', 3306), 'Drop', 'Default');
    const at = (localIp: string) =>
      check({
        NetworkInterfaceId: e.id,
        Direction: 'ingress',
        IpProtocol: 'tcp',
        PeerIp: '203.0.113.2',
        PeerPort: '40000',
        LocalPort: '3306',
        LocalIp: localIp,
      });
    byRule(await at('10.0.1.5'), 'Accept', g, rule, 1);
    noRule(await at('10.0.1.16'), 'Drop', 'Default');
  });

  test('SourcePortRange is checked when set', async () => {
    const g = await group();
    const rule = await allowIn(g, 'from-low-ports', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '8443/8443',
      sourcePortRange: '1/1023',
      policy: 'accept',
    });
    const e = await eni([g]);
    byRule(await ingress(e, 'tcp', '203.0.113.2', 8443, 1000), 'Accept', g, rule, 1);
    noRule(await ingress(e, 'tcp', '203.0.113.2', 8443, 50000), 'Drop', 'Default');
  });
});

// ------------------------------------------------------------------------------ inner access

describe('inner access', () => {
  let g = '';
  let x: Eni;
  let y: Eni;
  let stranger: Eni;
  before(async () => {
    g = await group();
    x = await eni([g]);
    y = await eni([g]);
    stranger = await eni([await group()]);
  });

  test('two interfaces in one normal group (InnerAccessPolicy Accept), no rules: ingress accepted, Reason InnerAccess', async () => {
    noRule(await ingress(y, 'tcp', x.ip, 22), 'Accept', 'InnerAccess');
    noRule(await ingress(x, 'udp', y.ip, 53), 'Accept', 'InnerAccess');
    noRule(await ingress(y, 'icmp', x.ip), 'Accept', 'InnerAccess');
    // not for a peer outside the group, nor an address nobody holds
    noRule(await ingress(y, 'tcp', stranger.ip, 22), 'Drop', 'Default');
    noRule(await ingress(y, 'tcp', '10.0.1.249', 22), 'Drop', 'Default');
    // inner access is an intranet matter
    const internet = await check({
      NetworkInterfaceId: y.id,
      Direction: 'ingress',
      IpProtocol: 'tcp',
      PeerIp: x.ip,
      PeerPort: '49152',
      LocalPort: '22',
      NicType: 'internet',
    });
    noRule(internet, 'Drop', 'Default');
  });

  test('after ModifySecurityGroupPolicy Drop → dropped (Default); back to Accept → accepted', async () => {
    await setPolicy(g, 'Drop');
    noRule(await ingress(y, 'tcp', x.ip, 22), 'Drop', 'Default');
    await setPolicy(g, 'Accept');
    noRule(await ingress(y, 'tcp', x.ip, 22), 'Accept', 'InnerAccess');
  });

  test('Accept inner access takes precedence over user rules: a drop at priority 1 does not cut members apart, either way', async () => {
    const drop = await allowIn(g, 'drop-x-22', {
      sourceCidrIp: `${x.ip}/32`,
      ipProtocol: 'tcp',
      portRange: '22/22',
      priority: '1',
      policy: 'drop',
    });
    const dropOut = await allowOut(g, 'drop-all-out', {
      destCidrIp: '0.0.0.0/0',
      ipProtocol: 'all',
      portRange: '-1/-1',
      priority: '1',
      policy: 'drop',
    });
    noRule(await ingress(y, 'tcp', x.ip, 22), 'Accept', 'InnerAccess');
    noRule(await egress(y, 'tcp', x.ip, 22), 'Accept', 'InnerAccess');
    // a peer outside the group is judged by the rules
    byRule(await egress(y, 'tcp', stranger.ip, 22), 'Drop', g, dropOut, 1);
    // with Drop, user rules decide between members
    await setPolicy(g, 'Drop');
    byRule(await ingress(y, 'tcp', x.ip, 22), 'Drop', g, drop, 1);
    byRule(await egress(y, 'tcp', x.ip, 22), 'Drop', g, dropOut, 1);
    await setPolicy(g, 'Accept');
    await ecs.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: R,
        securityGroupId: g,
        securityGroupRuleId: [drop],
      }),
    );
    await ecs.revokeSecurityGroupEgress(
      new $Ecs.RevokeSecurityGroupEgressRequest({
        regionId: R,
        securityGroupId: g,
        securityGroupRuleId: [dropOut],
      }),
    );
    noRule(await ingress(y, 'tcp', x.ip, 22), 'Accept', 'InnerAccess');
  });

  test('with InnerAccessPolicy Drop an accept rule opens traffic between members', async () => {
    const h = await group();
    const a = await eni([h]);
    const b = await eni([h]);
    await setPolicy(h, 'Drop');
    noRule(await ingress(b, 'tcp', a.ip, 5432), 'Drop', 'Default');
    const rule = await allowIn(h, 'from-a-5432', {
      sourceCidrIp: a.ip,
      ipProtocol: 'tcp',
      portRange: '5432/5432',
      policy: 'accept',
    });
    byRule(await ingress(b, 'tcp', a.ip, 5432), 'Accept', h, rule, 1);
  });

  test('interfaces sharing an enterprise group get no inner access', async () => {
    const e = await group({ securityGroupType: 'enterprise' });
    const a = await eni([e]);
    const b = await eni([e]);
    noRule(await ingress(b, 'tcp', a.ip, 22), 'Drop', 'Default');
  });

  test('inner access through a second shared group', async () => {
    const h = await group();
    const a = await eni([h]);
    const b = await eni([await group()]);
    noRule(await ingress(b, 'tcp', a.ip, 22), 'Drop', 'Default');
    await ecs.joinSecurityGroup(
      new $Ecs.JoinSecurityGroupRequest({
        regionId: R,
        networkInterfaceId: b.id,
        securityGroupId: h,
      }),
    );
    noRule(await ingress(b, 'tcp', a.ip, 22), 'Accept', 'InnerAccess');
  });
});

// ------------------------------------------------------------------------------ eni to eni

describe('interface to interface', () => {
  test('Egress and Ingress parts; Verdict Accept only when both accept', async () => {
    const a = await group();
    const b = await group();
    const src = await eni([a]);
    const dst = await eni([b]);
    const sshDrop = await allowOut(a, 'no-ssh-to-b', {
      destGroupId: b,
      ipProtocol: 'tcp',
      portRange: '22/22',
      policy: 'drop',
    });
    const webIn = await allowIn(b, 'tcp-from-vpc', {
      sourceCidrIp: '10.0.0.0/16',
      ipProtocol: 'tcp',
      portRange: '1/65535',
      priority: '7',
      policy: 'accept',
    });

    // egress accepted (default), ingress accepted (rule) → accept
    const ok = await between(src, dst, 'tcp', 80);
    assert.equal(ok.Verdict, 'Accept');
    noRule(ok.Egress!, 'Accept', 'Default');
    byRule(ok.Ingress!, 'Accept', b, webIn, 7);

    // egress dropped by the rule, ingress would accept → drop
    const ssh = await between(src, dst, 'tcp', 22);
    assert.equal(ssh.Verdict, 'Drop');
    byRule(ssh.Egress!, 'Drop', a, sshDrop, 1);
    byRule(ssh.Ingress!, 'Accept', b, webIn, 7);
    assert.equal(ssh.SecurityGroupRuleId, sshDrop, 'the top level names the deciding drop');

    // egress accepted, ingress dropped by default → drop
    const udp = await between(src, dst, 'udp', 53);
    assert.equal(udp.Verdict, 'Drop');
    noRule(udp.Egress!, 'Accept', 'Default');
    noRule(udp.Ingress!, 'Drop', 'Default');
    assert.equal(udp.Reason, 'Default');

    // the other way round: b → a, nothing lets it into a
    const back = await between(dst, src, 'tcp', 80);
    assert.equal(back.Verdict, 'Drop');
    noRule(back.Egress!, 'Accept', 'Default');
    noRule(back.Ingress!, 'Drop', 'Default');
  });

  test('inner access on both sides; ICMP needs no ports', async () => {
    const g = await group();
    const a = await eni([g]);
    const b = await eni([g]);
    const r = await between(a, b, 'icmp');
    assert.equal(r.Verdict, 'Accept');
    noRule(r.Egress!, 'Accept', 'InnerAccess');
    noRule(r.Ingress!, 'Accept', 'InnerAccess');
  });

  test('an enterprise sender drops by default on egress', async () => {
    const e = await group({ securityGroupType: 'enterprise' });
    const n = await group();
    const src = await eni([e]);
    const dst = await eni([n]);
    const inRule = await allowIn(n, 'any-tcp', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '1/65535',
      policy: 'accept',
    });
    const r = await between(src, dst, 'tcp', 443);
    assert.equal(r.Verdict, 'Drop');
    noRule(r.Egress!, 'Drop', 'Default');
    byRule(r.Ingress!, 'Accept', n, inRule, 1);
  });
});

// ------------------------------------------------------------------------------ live changes

describe('changes are visible immediately', () => {
  test('authorize, modify, revoke', async () => {
    const g = await group();
    const e = await eni([g]);
    noRule(await ingress(e, 'tcp', '198.51.100.7', 8080), 'Drop', 'Default');
    const rule = await allowIn(g, 'live-8080', {
      sourceCidrIp: '198.51.100.0/24',
      ipProtocol: 'tcp',
      portRange: '8080/8080',
      policy: 'accept',
    });
    byRule(await ingress(e, 'tcp', '198.51.100.7', 8080), 'Accept', g, rule, 1);
    await ecs.modifySecurityGroupRule(
      new $Ecs.ModifySecurityGroupRuleRequest({
        regionId: R,
        securityGroupId: g,
        securityGroupRuleId: rule,
        policy: 'drop',
        priority: '9',
      }),
    );
    byRule(await ingress(e, 'tcp', '198.51.100.7', 8080), 'Drop', g, rule, 9);
    await ecs.modifySecurityGroupRule(
      new $Ecs.ModifySecurityGroupRuleRequest({
        regionId: R,
        securityGroupId: g,
        securityGroupRuleId: rule,
        policy: 'accept',
        portRange: '8000/8100',
      }),
    );
    byRule(await ingress(e, 'tcp', '198.51.100.7', 8080), 'Accept', g, rule, 9);
    byRule(await ingress(e, 'tcp', '198.51.100.7', 8001), 'Accept', g, rule, 9);
    await ecs.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: R,
        securityGroupId: g,
        securityGroupRuleId: [rule],
      }),
    );
    noRule(await ingress(e, 'tcp', '198.51.100.7', 8080), 'Drop', 'Default');
  });

  test('egress: authorize a drop, revoke it', async () => {
    const g = await group();
    const e = await eni([g]);
    noRule(await egress(e, 'tcp', '203.0.113.50', 25), 'Accept', 'Default');
    const rule = await allowOut(g, 'no-smtp', {
      destCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '25/25',
      policy: 'drop',
    });
    byRule(await egress(e, 'tcp', '203.0.113.50', 25), 'Drop', g, rule, 1);
    await ecs.revokeSecurityGroupEgress(
      new $Ecs.RevokeSecurityGroupEgressRequest({
        regionId: R,
        securityGroupId: g,
        securityGroupRuleId: [rule],
      }),
    );
    noRule(await egress(e, 'tcp', '203.0.113.50', 25), 'Accept', 'Default');
  });

  test('join and leave change the interface’s rules', async () => {
    const base = await group();
    const web = await group();
    const rule = await allowIn(web, 'web', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '443/443',
      policy: 'accept',
    });
    const e = await eni([base]);
    noRule(await ingress(e, 'tcp', '203.0.113.3', 443), 'Drop', 'Default');
    await ecs.joinSecurityGroup(
      new $Ecs.JoinSecurityGroupRequest({
        regionId: R,
        networkInterfaceId: e.id,
        securityGroupId: web,
      }),
    );
    byRule(await ingress(e, 'tcp', '203.0.113.3', 443), 'Accept', web, rule, 1);
    await ecs.leaveSecurityGroup(
      new $Ecs.LeaveSecurityGroupRequest({
        regionId: R,
        networkInterfaceId: e.id,
        securityGroupId: web,
      }),
    );
    noRule(await ingress(e, 'tcp', '203.0.113.3', 443), 'Drop', 'Default');
  });

  test('join and leave of the peer change group-reference matches; a deleted peer matches nothing', async () => {
    const server = await group();
    const clients = await group();
    const rule = await allowIn(server, 'from-clients', {
      sourceGroupId: clients,
      ipProtocol: 'tcp',
      portRange: '9000/9000',
      policy: 'accept',
    });
    const s = await eni([server]);
    const c = await eni([await group()]);
    noRule(await ingress(s, 'tcp', c.ip, 9000), 'Drop', 'Default');
    await ecs.joinSecurityGroup(
      new $Ecs.JoinSecurityGroupRequest({
        regionId: R,
        networkInterfaceId: c.id,
        securityGroupId: clients,
      }),
    );
    byRule(await ingress(s, 'tcp', c.ip, 9000), 'Accept', server, rule, 1);
    await ecs.leaveSecurityGroup(
      new $Ecs.LeaveSecurityGroupRequest({
        regionId: R,
        networkInterfaceId: c.id,
        securityGroupId: clients,
      }),
    );
    noRule(await ingress(s, 'tcp', c.ip, 9000), 'Drop', 'Default');

    const d = await eni([clients]);
    byRule(await ingress(s, 'tcp', d.ip, 9000), 'Accept', server, rule, 1);
    await ecs.deleteNetworkInterface(
      new $Ecs.DeleteNetworkInterfaceRequest({ regionId: R, networkInterfaceId: d.id }),
    );
    noRule(await ingress(s, 'tcp', d.ip, 9000), 'Drop', 'Default');
  });

  test('a deleted interface → InvalidEniId.NotFound 404', async () => {
    const g = await group();
    const e = await eni([g]);
    const peer = await eni([g]);
    noRule(await ingress(e, 'tcp', peer.ip, 22), 'Accept', 'InnerAccess');
    await ecs.deleteNetworkInterface(
      new $Ecs.DeleteNetworkInterfaceRequest({ regionId: R, networkInterfaceId: peer.id }),
    );
    // its address no longer counts as a member of the group
    noRule(await ingress(e, 'tcp', peer.ip, 22), 'Drop', 'Default');
    await expectApiError(
      checkRaw({
        NetworkInterfaceId: peer.id,
        Direction: 'ingress',
        IpProtocol: 'tcp',
        PeerIp: e.ip,
        PeerPort: '1',
        LocalPort: '22',
      }),
      'InvalidEniId.NotFound',
      404,
    );
    await expectApiError(
      checkRaw({
        SourceNetworkInterfaceId: e.id,
        DestNetworkInterfaceId: peer.id,
        IpProtocol: 'tcp',
        SourcePort: '1',
        DestPort: '22',
      }),
      'InvalidEniId.NotFound',
      404,
    );
  });

  test('a deleted group’s rules no longer decide', async () => {
    const keep = await group();
    const gone = await group();
    await allowIn(gone, 'gone', {
      sourceCidrIp: '0.0.0.0/0',
      ipProtocol: 'tcp',
      portRange: '5432/5432',
      policy: 'accept',
    });
    const e = await eni([keep, gone]);
    assert.equal((await ingress(e, 'tcp', '203.0.113.4', 5432)).Verdict, 'Accept');
    await ecs.leaveSecurityGroup(
      new $Ecs.LeaveSecurityGroupRequest({
        regionId: R,
        networkInterfaceId: e.id,
        securityGroupId: gone,
      }),
    );
    await ecs.deleteSecurityGroup(
      new $Ecs.DeleteSecurityGroupRequest({ regionId: R, securityGroupId: gone }),
    );
    noRule(await ingress(e, 'tcp', '203.0.113.4', 5432), 'Drop', 'Default');
  });
});

// ------------------------------------------------------------------------------ errors

describe('CheckSecurityGroupTraffic errors', () => {
  let e: Eni;
  let f: Eni;
  let foreign = '';
  before(async () => {
    const g = await group();
    e = await eni([g]);
    f = await eni([g]);
    // another account's interface, in its own VPC
    const oEcs = ecsClient(srv, OTHER);
    const oVpc = vpcClient(srv, OTHER);
    const ov = (
      await oVpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: R, cidrBlock: '10.0.0.0/16' }))
    ).body!.vpcId!;
    const ovsw = (
      await oVpc.createVSwitch(
        new $Vpc.CreateVSwitchRequest({
          regionId: R,
          vpcId: ov,
          zoneId: 'cn-hangzhou-b',
          cidrBlock: '10.0.1.0/24',
        }),
      )
    ).body!.vSwitchId!;
    const og = (
      await oEcs.createSecurityGroup(
        new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId: ov }),
      )
    ).body!.securityGroupId!;
    foreign = (
      await oEcs.createNetworkInterface(
        new $Ecs.CreateNetworkInterfaceRequest({
          regionId: R,
          vSwitchId: ovsw,
          securityGroupIds: [og],
        }),
      )
    ).body!.networkInterfaceId!;
  });

  const one = (over: Record<string, string | undefined>): Record<string, string> => {
    const all: Record<string, string | undefined> = {
      NetworkInterfaceId: e.id,
      Direction: 'ingress',
      IpProtocol: 'tcp',
      PeerIp: '203.0.113.1',
      PeerPort: '49152',
      LocalPort: '22',
      ...over,
    };
    return Object.fromEntries(
      Object.entries(all).filter((kv): kv is [string, string] => kv[1] !== undefined),
    );
  };
  const two = (over: Record<string, string | undefined>): Record<string, string> => {
    const all: Record<string, string | undefined> = {
      SourceNetworkInterfaceId: e.id,
      DestNetworkInterfaceId: f.id,
      IpProtocol: 'tcp',
      SourcePort: '49152',
      DestPort: '22',
      ...over,
    };
    return Object.fromEntries(
      Object.entries(all).filter((kv): kv is [string, string] => kv[1] !== undefined),
    );
  };

  /** [name, params, code, status, a word the message must contain] */
  const cases: [string, () => Record<string, string>, string, number, string?][] = [
    [
      'unknown interface',
      () => one({ NetworkInterfaceId: 'eni-nope' }),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'unknown source interface',
      () => two({ SourceNetworkInterfaceId: 'eni-nope' }),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'unknown destination interface',
      () => two({ DestNetworkInterfaceId: 'eni-nope' }),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'another account’s interface',
      () => one({ NetworkInterfaceId: foreign }),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'another account’s interface as the destination',
      () => two({ DestNetworkInterfaceId: foreign }),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'an interface of another region',
      () => one({ RegionId: 'cn-shanghai' }),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'malformed PeerIp',
      () => one({ PeerIp: '10.0.0.300' }),
      'InvalidParameter.Value',
      400,
      'PeerIp',
    ],
    ['PeerIp a CIDR', () => one({ PeerIp: '10.0.0.0/8' }), 'InvalidParameter.Value', 400, 'PeerIp'],
    [
      'malformed LocalIp',
      () => one({ LocalIp: 'localhost' }),
      'InvalidParameter.Value',
      400,
      'LocalIp',
    ],
    ['PeerPort 70000', () => one({ PeerPort: '70000' }), 'InvalidParameter.Value', 400, 'PeerPort'],
    [
      'LocalPort 65536',
      () => one({ LocalPort: '65536' }),
      'InvalidParameter.Value',
      400,
      'LocalPort',
    ],
    ['LocalPort -1', () => one({ LocalPort: '-1' }), 'InvalidParameter.Value', 400, 'LocalPort'],
    [
      'LocalPort not a number',
      () => one({ LocalPort: 'ssh' }),
      'InvalidParameter.Value',
      400,
      'LocalPort',
    ],
    ['DestPort 70000', () => two({ DestPort: '70000' }), 'InvalidParameter.Value', 400, 'DestPort'],
    [
      'SourcePort 99999',
      () => two({ SourcePort: '99999' }),
      'InvalidParameter.Value',
      400,
      'SourcePort',
    ],
    [
      'missing Direction',
      () => one({ Direction: undefined }),
      'MissingParameter',
      400,
      'Direction',
    ],
    ['missing PeerIp', () => one({ PeerIp: undefined }), 'MissingParameter', 400, 'PeerIp'],
    [
      'missing LocalPort for tcp',
      () => one({ LocalPort: undefined }),
      'MissingParameter',
      400,
      'LocalPort',
    ],
    [
      'missing PeerPort for udp',
      () => one({ IpProtocol: 'udp', PeerPort: undefined }),
      'MissingParameter',
      400,
      'PeerPort',
    ],
    [
      'missing IpProtocol',
      () => one({ IpProtocol: undefined }),
      'MissingParameter',
      400,
      'IpProtocol',
    ],
    [
      'missing NetworkInterfaceId',
      () => one({ NetworkInterfaceId: undefined }),
      'MissingParameter',
      400,
      'NetworkInterfaceId',
    ],
    [
      'missing DestNetworkInterfaceId',
      () => two({ DestNetworkInterfaceId: undefined }),
      'MissingParameter',
      400,
      'DestNetworkInterfaceId',
    ],
    [
      'missing DestPort for tcp',
      () => two({ DestPort: undefined }),
      'MissingParameter',
      400,
      'DestPort',
    ],
    [
      'unsupported protocol',
      () => one({ IpProtocol: 'sctp' }),
      'InvalidIpProtocol.ValueNotSupported',
      400,
    ],
    ['Direction both', () => one({ Direction: 'both' }), 'InvalidParameter', 400, 'Direction'],
    ['NicType wan', () => one({ NicType: 'wan' }), 'InvalidNicType.ValueNotSupported', 400],
  ];
  for (const [name, params, code, status, word] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      const info = await expectApiError(checkRaw(params()), code, status);
      assert.equal(info.status, status);
      if (word !== undefined) assert.match(info.message, new RegExp(`\\b${word}\\b`));
    });
  }

  test('the other account sees its own interface, and not ours', async () => {
    const creds = { accessKeyId: OTHER.accessKeyId, secret: OTHER.secret };
    const mine = await checkRaw(one({ NetworkInterfaceId: foreign }), creds);
    assert.equal(mine.status, 200, mine.text);
    assert.equal(mine.body.Verdict, 'Drop');
    await expectApiError(checkRaw(one({}), creds), 'InvalidEniId.NotFound', 404);
  });

  test('icmp and gre need no ports; IPv6 peers are accepted as addresses', async () => {
    for (const proto of ['icmp', 'gre']) {
      const r = await check(one({ IpProtocol: proto, PeerPort: undefined, LocalPort: undefined }));
      assert.equal(r.Verdict, 'Drop');
    }
    const r = await check(one({ PeerIp: '2001:db8::1' }));
    assert.equal(r.Verdict, 'Drop');
    assert.equal(r.Reason, 'Default');
  });
});
