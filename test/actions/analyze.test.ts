/**
 * AnalyzeSecurityGroup and AnalyzeNetworkInterface through the real server: setup with the
 * official SDK, the analyses through pop-core (the official generic client) and v1-signed
 * requests, JSON and XML; witnesses checked with CheckSecurityGroupTraffic at real
 * interfaces; what-if without storing anything; and every error code the actions return.
 * The server allows 3 rules per group, so the rule limit is easy to reach.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import {
  type EcsClient,
  ecsClient,
  expectApiError,
  popClient,
  vpcClient,
} from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  accountsFile,
  ecsV1,
  okV1,
  REGION as R,
  sdkEni,
  sdkGroup,
  type TestAccount,
  vpcWithVSwitch,
} from './support.js';

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
let otherVpcId = '';
let vswId = '';

const group = (extra: Partial<$Ecs.CreateSecurityGroupRequest> = {}) => sdkGroup(ecs, vpcId, extra);
const eni = (securityGroupIds: string[]) => sdkEni(ecs, vswId, securityGroupIds);

async function rules(groupId: string) {
  const r = await ecs.describeSecurityGroupAttribute(
    new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: groupId }),
  );
  return r.body!.permissions?.permission ?? [];
}

/** AuthorizeSecurityGroup with a Description to find the rule by; returns its id. */
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
      ipProtocol: 'tcp',
      portRange: '22/22',
      ...p,
    }),
  );
  return (await rules(groupId)).find((x) => x.description === description)!.securityGroupRuleId!;
}

// biome-ignore lint/suspicious/noExplicitAny: response bodies are navigated freely
type Body = any;

const analyzeGroup = (params: Record<string, string>): Promise<Body> =>
  okV1(srv, 'AnalyzeSecurityGroup', params);
const analyzeEni = (params: Record<string, string>): Promise<Body> =>
  okV1(srv, 'AnalyzeNetworkInterface', params);

/** CheckSecurityGroupTraffic of a witness at an interface. */
async function check(eniId: string, w: Record<string, unknown>): Promise<Body> {
  const params: Record<string, string> = { NetworkInterfaceId: eniId };
  for (const [k, v] of Object.entries(w)) if (k !== 'NetworkInterfaceId') params[k] = String(v);
  return okV1(srv, 'CheckSecurityGroupTraffic', params);
}

const ruleOf = (body: Body, id: string) =>
  body.Rules.Rule.find((r: Body) => r.SecurityGroupRuleId === id);
const findings = (body: Body, type: string) =>
  body.Findings.Finding.filter((f: Body) => f.Type === type);

before(async () => {
  srv = await startServer({
    accounts: accountsFile(ME, OTHER),
    args: ['--max-rules-per-group', '3'],
  });
  ecs = ecsClient(srv);
  ({ vpcId, vSwitchId: vswId } = await vpcWithVSwitch(vpcClient(srv)));
  otherVpcId = (await vpcWithVSwitch(vpcClient(srv))).vpcId;
});

after(() => srv?.stop());

describe('AnalyzeSecurityGroup', () => {
  let web = '';
  let open = '';
  let shadowed = '';
  let toEmpty = '';
  let empty = '';
  let probe = { id: '', ip: '' };

  before(async () => {
    web = await group();
    empty = await group();
    open = await allowIn(web, 'ssh', { sourceCidrIp: '0.0.0.0/0', priority: '1' });
    shadowed = await allowIn(web, 'ssh-drop', {
      sourceCidrIp: '0.0.0.0/0',
      policy: 'drop',
      priority: '2',
    });
    toEmpty = await allowIn(web, 'from-empty', { sourceGroupId: empty, portRange: '5432/5432' });
    probe = await eni([web]); // an interface in the group alone
  });

  test('every rule judged, the findings, no changes; the witness is decided by its rule at an interface of the group', async () => {
    const body = await analyzeGroup({ SecurityGroupId: web });
    assert.equal(body.SecurityGroupId, web);
    assert.equal(body.RegionId, R);
    assert.equal(body.Rules.Rule.length, 3);
    const r = ruleOf(body, open);
    assert.deepEqual(
      { ...r, Witness: undefined },
      {
        SecurityGroupId: web,
        SecurityGroupRuleId: open,
        Direction: 'ingress',
        Priority: '1',
        Policy: 'Accept',
        Reachable: true,
        Witness: undefined,
      },
    );
    assert.deepEqual(Object.keys(r.Witness).sort(), [
      'Direction',
      'IpProtocol',
      'LocalIp',
      'LocalPort',
      'NicType',
      'PeerIp',
      'PeerPort',
    ]);
    assert.equal(r.Witness.LocalPort, 22);
    const d = await check(probe.id, r.Witness);
    assert.equal(d.SecurityGroupRuleId, open);
    assert.deepEqual(ruleOf(body, shadowed), {
      SecurityGroupId: web,
      SecurityGroupRuleId: shadowed,
      Direction: 'ingress',
      Priority: '2',
      Policy: 'Drop',
      Reachable: false,
      Kind: 'Shadowed',
      BlockedBy: { SecurityGroupRuleId: [open], InnerAccess: false },
    });
    const [x] = findings(body, 'Exposure');
    assert.equal(x.Port, 22);
    assert.equal(x.Severity, 'critical');
    assert.deepEqual(x.SecurityGroupRuleIds.SecurityGroupRuleId, [open]);
    assert.match(x.PublicIpv4Addresses, /^\d{10}$/);
    assert.equal(x.PublicIpv6Addresses, '0');
    assert.equal((await check(probe.id, x.Witness)).Verdict, 'Accept');
    assert.equal(findings(body, 'Unreachable')[0].Severity, 'high');
    assert.deepEqual(
      findings(body, 'EmptyReference').map((f: Body) => f.SecurityGroupRuleIds.SecurityGroupRuleId),
      [[toEmpty]],
    );
    assert.deepEqual(body.Changes, { Change: [] });
    // the most severe first
    assert.equal(body.Findings.Finding[0].Severity, 'critical');
  });

  test('through pop-core, and as XML', async () => {
    const body = (await popClient(srv).request(
      'AnalyzeSecurityGroup',
      { RegionId: R, SecurityGroupId: web },
      { method: 'POST' },
    )) as Body;
    assert.equal(ruleOf(body, open).Reachable, true);
    const xml = await ecsV1(
      srv,
      'AnalyzeSecurityGroup',
      { SecurityGroupId: web },
      { format: 'XML' },
    );
    assert.equal(xml.status, 200, xml.text);
    assert.match(xml.text, /^<\?xml .*<AnalyzeSecurityGroupResponse><RequestId>/);
    assert.match(xml.text, /<Rules><Rule><SecurityGroupId>sg-/);
    assert.match(xml.text, /<Reachable>true<\/Reachable>/);
    assert.match(xml.text, /<Finding><Type>Exposure<\/Type><Severity>critical<\/Severity>/);
    assert.match(xml.text, /<SecurityGroupRuleIds><SecurityGroupRuleId>sgr-/);
  });

  test('Direction narrows the rules; ExposurePort.N replaces the list of ports', async () => {
    const egress = await analyzeGroup({ SecurityGroupId: web, Direction: 'egress' });
    assert.deepEqual(egress.Rules.Rule, []);
    assert.deepEqual(findings(egress, 'Exposure'), []);
    const some = await analyzeGroup({
      SecurityGroupId: web,
      'ExposurePort.1': '3306',
      'ExposurePort.2': '20-23',
    });
    assert.deepEqual(
      findings(some, 'Exposure').map((f: Body) => f.Port),
      [22],
    );
  });

  test('what if: Add.N and Remove.N give the changes, the rules after the change, and store nothing', async () => {
    const before = await rules(web);
    const body = await analyzeGroup({
      SecurityGroupId: web,
      'Add.1.Direction': 'ingress',
      'Add.1.IpProtocol': 'tcp',
      'Add.1.PortRange': '22/22',
      'Add.1.SourceCidrIp': '8.8.8.0/24',
      'Add.1.Policy': 'drop',
      'Add.1.Priority': '1',
      'Remove.1': toEmpty,
    });
    const [c, ...rest] = body.Changes.Change;
    assert.equal(rest.length, 0, JSON.stringify(body.Changes));
    assert.equal(c.Direction, 'ingress');
    assert.deepEqual(
      [
        c.Before.Verdict,
        c.Before.SecurityGroupRuleId,
        c.After.Verdict,
        c.After.SecurityGroupRuleId,
      ],
      ['Accept', open, 'Drop', 'Add.1'],
    );
    assert.match(c.Witness.PeerIp, /^8\.8\.8\./);
    assert.match(c.Message, /accepted by sgr-.* would be dropped by Add\.1/);
    // the witness is what CheckSecurityGroupTraffic says now
    assert.equal((await check(probe.id, c.Witness)).SecurityGroupRuleId, open);
    assert.deepEqual(
      body.Rules.Rule.map((r: Body) => r.SecurityGroupRuleId),
      ['Add.1', open, shadowed],
    );
    assert.deepEqual(findings(body, 'EmptyReference'), []);
    assert.deepEqual(await rules(web), before);
  });

  test('what if that changes no verdict: no changes', async () => {
    const body = await analyzeGroup({
      SecurityGroupId: web,
      'Add.1.Direction': 'ingress',
      'Add.1.IpProtocol': 'tcp',
      'Add.1.PortRange': '22/22',
      'Add.1.SourceCidrIp': '1.2.3.4',
      'Add.1.Priority': '50',
      'Remove.1': toEmpty, // the group is full (3 rules)
    });
    assert.deepEqual(body.Changes.Change, []);
    assert.equal(ruleOf(body, 'Add.1').Reachable, false);
  });
});

describe('AnalyzeNetworkInterface', () => {
  let web = '';
  let base = '';
  let webRule = '';
  let baseRule = '';
  let e = { id: '', ip: '' };

  before(async () => {
    web = await group();
    base = await group();
    webRule = await allowIn(web, 'web', { sourceCidrIp: '10.0.0.0/8', priority: '2' });
    baseRule = await allowIn(base, 'deny', { sourceCidrIp: '10.0.0.0/8', policy: 'drop' });
    e = await eni([web, base]);
  });

  test('the merged rules: one group’s rule shadows another’s at the interface, and the answer says which', async () => {
    const alone = await analyzeGroup({ SecurityGroupId: web });
    assert.equal(ruleOf(alone, webRule).Reachable, true);
    const body = await analyzeEni({ NetworkInterfaceId: e.id });
    assert.equal(body.NetworkInterfaceId, e.id);
    assert.deepEqual(body.SecurityGroupIds.SecurityGroupId.sort(), [web, base].sort());
    assert.deepEqual(ruleOf(body, webRule), {
      SecurityGroupId: web,
      SecurityGroupRuleId: webRule,
      Direction: 'ingress',
      Priority: '2',
      Policy: 'Accept',
      Reachable: false,
      Kind: 'Shadowed',
      BlockedBy: { SecurityGroupRuleId: [baseRule], InnerAccess: false, OtherGroups: true },
    });
    const f = findings(body, 'Unreachable').find(
      (x: Body) => x.SecurityGroupRuleIds.SecurityGroupRuleId[0] === webRule,
    );
    assert.match(f.Message, new RegExp(`${baseRule} of ${base}`));
    const w = ruleOf(body, baseRule).Witness;
    assert.equal(w.NetworkInterfaceId, e.id);
    assert.equal((await check(e.id, w)).SecurityGroupRuleId, baseRule);
  });

  test('what if: removing the other group’s drop lets the rule decide; Add.N.SecurityGroupId picks the group', async () => {
    const body = await analyzeEni({ NetworkInterfaceId: e.id, 'Remove.1': baseRule });
    const [c] = body.Changes.Change;
    assert.equal(c.Before.SecurityGroupRuleId, baseRule);
    assert.equal(c.After.SecurityGroupRuleId, webRule);
    assert.equal(c.Witness.NetworkInterfaceId, e.id);
    assert.equal(ruleOf(body, webRule).Reachable, true);
    const added = await analyzeEni({
      NetworkInterfaceId: e.id,
      'Add.1.SecurityGroupId': base,
      'Add.1.Direction': 'egress',
      'Add.1.IpProtocol': 'udp',
      'Add.1.PortRange': '53/53',
      'Add.1.DestCidrIp': '0.0.0.0/0',
      'Add.1.Policy': 'drop',
    });
    const [d] = added.Changes.Change;
    assert.equal(d.Direction, 'egress');
    assert.deepEqual([d.Before.Reason, d.After.SecurityGroupId], ['Default', base]);
    assert.equal(ruleOf(added, 'Add.1').SecurityGroupId, base);
  });
});

describe('errors of the analysis actions', () => {
  let vpcGroup = '';
  let full = '';
  let classic = '';
  let classicRef = '';
  let enterprise = '';
  let elsewhere = '';
  let twoGroups = '';
  let foreign = '';
  let existing = '';

  before(async () => {
    vpcGroup = await group();
    full = await group();
    for (const port of [1, 2, 3])
      await allowIn(full, `p${port}`, { portRange: `${port}/${port}`, sourceCidrIp: '10.0.0.0/8' });
    existing = (await rules(full))[0]!.securityGroupRuleId!;
    classic = await group({ vpcId: undefined });
    classicRef = await group({ vpcId: undefined });
    enterprise = await group({ securityGroupType: 'enterprise' });
    elsewhere = await group({ vpcId: otherVpcId });
    twoGroups = (await eni([vpcGroup, full])).id;
    foreign = (
      await ecsClient(srv, OTHER).createSecurityGroup(
        new $Ecs.CreateSecurityGroupRequest({ regionId: R }),
      )
    ).body!.securityGroupId!;
  });

  /** Group ids are known once `before` ran: a value `$name` stands for the group `name`. */
  const late = (v: string): string =>
    v.startsWith('$')
      ? (
          { $vpcGroup: vpcGroup, $full: full, $classic: classic, $elsewhere: elsewhere } as Record<
            string,
            string
          >
        )[v]!
      : v;

  /**
   * The params of a group analysis with an Add.1 (tcp 22 from 10.0.0.0/8): `over` names Add.1's
   * fields (or whole parameter names, with a dot); undefined removes one.
   */
  const add =
    (over: Record<string, string | undefined>, groupId = () => vpcGroup) =>
    () => {
      const all: Record<string, string | undefined> = {
        SecurityGroupId: groupId(),
        'Add.1.Direction': 'ingress',
        'Add.1.IpProtocol': 'tcp',
        'Add.1.PortRange': '22/22',
        'Add.1.SourceCidrIp': '10.0.0.0/8',
      };
      for (const [k, v] of Object.entries(over)) all[k.includes('.') ? k : `Add.1.${k}`] = v;
      return Object.fromEntries(
        Object.entries(all).filter((kv): kv is [string, string] => kv[1] !== undefined),
      );
    };
  const egress = (over: Record<string, string | undefined>, groupId = () => vpcGroup) =>
    add(
      { Direction: 'egress', SourceCidrIp: undefined, DestCidrIp: '10.0.0.0/8', ...over },
      groupId,
    );

  type Case = [string, string, () => Record<string, string>, string, number, string?];
  const G = 'AnalyzeSecurityGroup';
  const E = 'AnalyzeNetworkInterface';
  const cases: Case[] = [
    ['no SecurityGroupId', G, () => ({}), 'MissingParameter', 400, 'SecurityGroupId'],
    ['no NetworkInterfaceId', E, () => ({}), 'MissingParameter', 400, 'NetworkInterfaceId'],
    [
      'no RegionId',
      G,
      () => ({ RegionId: '', SecurityGroupId: '$vpcGroup' }),
      'MissingParameter',
      400,
      'RegionId',
    ],
    [
      'an unknown region',
      G,
      () => ({ RegionId: 'mars-1', SecurityGroupId: '$vpcGroup' }),
      'InvalidRegionId.NotFound',
      404,
    ],
    [
      'an unknown group',
      G,
      () => ({ SecurityGroupId: 'sg-nope' }),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'another account’s group',
      G,
      () => ({ SecurityGroupId: foreign }),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'an unknown interface',
      E,
      () => ({ NetworkInterfaceId: 'eni-nope' }),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'Direction both',
      G,
      () => ({ SecurityGroupId: '$vpcGroup', Direction: 'both' }),
      'InvalidParameter',
      400,
      'Direction',
    ],
    [
      'ExposurePort 0',
      G,
      () => ({ SecurityGroupId: '$vpcGroup', 'ExposurePort.1': '0' }),
      'InvalidParameter.Value',
      400,
      'ExposurePort',
    ],
    [
      'ExposurePort a reversed range',
      G,
      () => ({ SecurityGroupId: '$vpcGroup', 'ExposurePort.1': '30-20' }),
      'InvalidParameter.Value',
      400,
    ],
    [
      'ExposurePort too many ports',
      G,
      () => ({ SecurityGroupId: '$vpcGroup', 'ExposurePort.1': '1-2000' }),
      'InvalidParameter.Value',
      400,
    ],
    ['Add.101', G, add({ 'Add.101.Direction': 'ingress' }), 'InvalidParameter.TooMany', 400, 'Add'],
    [
      'Remove.101',
      G,
      () => ({ SecurityGroupId: '$vpcGroup', 'Remove.101': existing }),
      'InvalidParameter.TooMany',
      400,
      'Remove',
    ],
    ['Add.x', G, add({ 'Add.x.Direction': 'ingress' }), 'InvalidParameter', 400, 'Add'],
    [
      'Remove.1 not a rule of the group',
      G,
      () => ({ SecurityGroupId: '$vpcGroup', 'Remove.1': existing }),
      'InvalidParam.SecurityGroupRuleId',
      400,
      'Remove',
    ],
    [
      'Add.1.Direction missing',
      G,
      add({ Direction: undefined }),
      'MissingParameter',
      400,
      'Direction',
    ],
    [
      'Add.1.Direction sideways',
      G,
      add({ Direction: 'sideways' }),
      'InvalidParameter',
      400,
      'Direction',
    ],
    [
      'Add.1.SecurityGroupId another group',
      G,
      add({ SecurityGroupId: '$full' }),
      'InvalidParameter.Value',
      400,
    ],
    [
      'Add.1.SecurityGroupId missing at an interface in two groups',
      E,
      () => ({ NetworkInterfaceId: twoGroups, ...add({ SecurityGroupId: undefined })() }),
      'MissingParameter',
      400,
      'SecurityGroupId',
    ],
    [
      'Add.1.SecurityGroupId not a group of the interface',
      E,
      () => ({ NetworkInterfaceId: twoGroups, ...add({ SecurityGroupId: '$classic' })() }),
      'InstanceNotInSecurityGroup',
      400,
    ],
    [
      'IpProtocol missing',
      G,
      add({ IpProtocol: undefined }),
      'MissingParameter',
      400,
      'IpProtocol',
    ],
    ['IpProtocol tcp/6', G, add({ IpProtocol: 'tcp/6' }), 'InvalidIpProtocol.Malformed', 400],
    ['IpProtocol sctp', G, add({ IpProtocol: 'sctp' }), 'InvalidIpProtocol.ValueNotSupported', 400],
    ['PortRange 22-23', G, add({ PortRange: '22-23' }), 'InvalidParam.PortRange', 400],
    ['PortRange -1/-1 for tcp', G, add({ PortRange: '-1/-1' }), 'OperationDenied', 400],
    ['Policy maybe', G, add({ Policy: 'maybe' }), 'InvalidPolicy.Malformed', 400],
    ['Priority one', G, add({ Priority: 'one' }), 'InvalidPriority.Malformed', 400],
    ['Priority 101', G, add({ Priority: '101' }), 'InvalidPriority.ValueNotSupported', 400],
    ['NicType wan', G, add({ NicType: 'wan' }), 'InvalidNicType.ValueNotSupported', 400],
    [
      'NicType internet on a VPC group',
      G,
      add({ NicType: 'internet' }),
      'InvalidNicType.Mismatch',
      400,
    ],
    [
      'Description a link',
      G,
      add({ Description: 'http://x' }),
      'InvalidSecurityGroupDiscription.Malformed',
      400,
    ],
    [
      'SourceCidrIp malformed',
      G,
      add({ SourceCidrIp: '10.0.0.300' }),
      'InvalidSourceCidrIp.Malformed',
      400,
    ],
    ['DestCidrIp malformed', G, egress({ DestCidrIp: 'ten' }), 'InvalidDestCidrIp.Malformed', 400],
    ['SourceCidrIp IPv6', G, add({ SourceCidrIp: '2001:db8::/32' }), 'InvalidParam.SourceIp', 400],
    ['DestCidrIp IPv6', G, egress({ DestCidrIp: '2001:db8::/32' }), 'InvalidParam.DestIp', 400],
    [
      'Ipv6SourceCidrIp not IPv6',
      G,
      add({ SourceCidrIp: undefined, Ipv6SourceCidrIp: 'x::y::z' }),
      'InvalidParam.Ipv6SourceCidrIp',
      400,
    ],
    [
      'Ipv6DestCidrIp not IPv6',
      G,
      egress({ DestCidrIp: undefined, Ipv6DestCidrIp: 'nope' }),
      'InvalidParam.Ipv6DestCidrIp',
      400,
    ],
    [
      'Ipv6SourceCidrIp /200',
      G,
      add({ SourceCidrIp: undefined, Ipv6SourceCidrIp: '2001:db8::/200' }),
      'ILLEGAL_IPV6_CIDR',
      400,
    ],
    [
      'an IPv4 far end with an IPv6 near end',
      G,
      add({ Ipv6DestCidrIp: 'fd00::/8' }),
      'InvalidParam.Ipv4ProtocolConflictWithIpv6Address',
      400,
    ],
    [
      'an IPv6 far end with an IPv4 near end',
      G,
      add({ SourceCidrIp: undefined, Ipv6SourceCidrIp: '2001:db8::/32', DestCidrIp: '10.0.0.0/8' }),
      'InvalidParam.Ipv6ProtocolConflictWithIpv4Address',
      400,
    ],
    ['no far end (ingress)', G, add({ SourceCidrIp: undefined }), 'MissingParameter', 403],
    [
      'an owner without DestGroupId (egress)',
      G,
      egress({ DestCidrIp: undefined, DestGroupOwnerAccount: ME.name }),
      'MissingParameter.Dest',
      400,
    ],
    [
      'SourceGroupOwnerId not a number',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: '$vpcGroup', SourceGroupOwnerId: 'abc' }),
      'InvalidParameter',
      400,
      'SourceGroupOwnerId',
    ],
    [
      'SourceGroupId malformed',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: 'group-1' }),
      'InvalidSourceGroup.NotFound',
      400,
    ],
    [
      'DestGroupId malformed',
      G,
      egress({ DestCidrIp: undefined, DestGroupId: 'group-1' }),
      'InvalidDestGroup.NotFound',
      400,
    ],
    [
      'SourceGroupId unknown',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: 'sg-nope' }),
      'InvalidSourceGroupId.NotFound',
      404,
    ],
    [
      'DestGroupId unknown',
      G,
      egress({ DestCidrIp: undefined, DestGroupId: 'sg-nope' }),
      'InvalidDestGroupId.NotFound',
      404,
    ],
    [
      'SourceGroupId the group itself',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: '$vpcGroup' }),
      'InvalidParamter.Conflict',
      403,
    ],
    [
      'SourceGroupId with NicType internet',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: '$full', NicType: 'internet' }),
      'InvalidSourceGroupId.Mismatch',
      403,
    ],
    [
      'DestGroupId with NicType internet',
      G,
      egress({ DestCidrIp: undefined, DestGroupId: '$full', NicType: 'internet' }),
      'InvalidDestGroupId.Mismatch',
      403,
    ],
    [
      'SourceGroupId in another VPC',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: '$elsewhere' }),
      'InvalidSourceGroupId.Mismatch',
      400,
    ],
    [
      'DestGroupId in another VPC',
      G,
      egress({ DestCidrIp: undefined, DestGroupId: '$elsewhere' }),
      'InvalidDestGroupId.Mismatch',
      400,
    ],
    [
      'SourceGroupId a classic group',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: '$classic' }),
      'InvalidNetworkType.Mismatch',
      403,
    ],
    [
      'DestGroupId a classic group',
      G,
      egress({ DestCidrIp: undefined, DestGroupId: '$classic' }),
      'InvalidNetworkType.Conflict',
      403,
    ],
    [
      'a group reference in an enterprise group',
      G,
      add({ SourceCidrIp: undefined, SourceGroupId: '$vpcGroup' }, () => enterprise),
      'InvalidSecurityGroupType.NotSupportGroupAuth',
      400,
    ],
    [
      'IPv6 on a classic group',
      G,
      add({ SourceCidrIp: undefined, Ipv6SourceCidrIp: '2001:db8::/32' }, () => classicRef),
      'InvalidSecurityGroup.InvalidNetworkType',
      400,
    ],
    [
      'a rule the group has',
      G,
      add({ PortRange: '1/1', SourceCidrIp: '10.0.0.0/8', Policy: 'accept' }, () => full),
      'InvalidPermission.Duplicate',
      400,
    ],
    [
      'two Add.N alike',
      G,
      add({
        'Add.2.Direction': 'ingress',
        'Add.2.IpProtocol': 'tcp',
        'Add.2.PortRange': '22/22',
        'Add.2.SourceCidrIp': '10.0.0.0/8',
      }),
      'InvalidPermission.Duplicate',
      400,
    ],
    ['more rules than the group may hold', G, add({}, () => full), 'AuthorizationLimitExceed', 403],
  ];
  for (const [name, action, params, code, status, word] of cases) {
    test(`${action}: ${name} → ${code} ${status}`, async () => {
      const p = Object.fromEntries(Object.entries(params()).map(([k, v]) => [k, late(v)]));
      const info = await expectApiError(ecsV1(srv, action, p), code, status);
      assert.equal(info.status, status);
      if (word !== undefined) assert.match(info.message, new RegExp(word));
    });
  }

  test('a rule like one removed at the same time is no duplicate, and frees its place under the limit', async () => {
    const [r] = await rules(full);
    const body = await analyzeGroup({
      ...add(
        { PortRange: r!.portRange!, SourceCidrIp: r!.sourceCidrIp!, Priority: '7' },
        () => full,
      )(),
      'Remove.1': r!.securityGroupRuleId!,
    });
    assert.equal(ruleOf(body, 'Add.1').Priority, '7');
    assert.equal(body.Changes.Change.length, 0);
  });

  test('the other account’s group is its own to analyze', async () => {
    const r = await ecsV1(
      srv,
      'AnalyzeSecurityGroup',
      { SecurityGroupId: foreign },
      {
        accessKeyId: OTHER.accessKeyId,
        secret: OTHER.secret,
      },
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.Rules.Rule, []);
  });
});
