/**
 * Every error code of the seed documents and of the security-group actions, provoked
 * through the official SDK against the real server, with code and HTTP status asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import * as $Vpc from '@alicloud/vpc20160428';
import {
  type EcsClient,
  ecsClient,
  expectApiError,
  signedV1,
  type VpcClient,
  vpcClient,
} from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

const R = 'cn-hangzhou';
let srv: TestServer;
let ecs: EcsClient;
let vpc: VpcClient;
const g = {} as Record<
  'classic' | 'classic2' | 'vpcA' | 'vpcA2' | 'otherVpc' | 'enterprise' | 'shanghai',
  string
>;
let vpcId = '';

async function group(extra: Partial<$Ecs.CreateSecurityGroupRequest> = {}): Promise<string> {
  const r = await ecs.createSecurityGroup(
    new $Ecs.CreateSecurityGroupRequest({ regionId: R, ...extra }),
  );
  return r.body!.securityGroupId!;
}

const ingress = (p: Partial<$Ecs.AuthorizeSecurityGroupRequest>) =>
  ecs.authorizeSecurityGroup(new $Ecs.AuthorizeSecurityGroupRequest({ regionId: R, ...p }));
const egress = (p: Partial<$Ecs.AuthorizeSecurityGroupEgressRequest>) =>
  ecs.authorizeSecurityGroupEgress(
    new $Ecs.AuthorizeSecurityGroupEgressRequest({ regionId: R, ...p }),
  );
const tcp22 = { ipProtocol: 'tcp', portRange: '22/22' };

before(async () => {
  srv = await startServer();
  ecs = ecsClient(srv);
  vpc = vpcClient(srv);
  vpcId = (
    await vpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: R, cidrBlock: '10.0.0.0/16' }))
  ).body!.vpcId!;
  const otherVpcId = (
    await vpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: R, cidrBlock: '10.1.0.0/16' }))
  ).body!.vpcId!;
  g.classic = await group();
  g.classic2 = await group();
  g.vpcA = await group({ vpcId });
  g.vpcA2 = await group({ vpcId });
  g.otherVpc = await group({ vpcId: otherVpcId });
  g.enterprise = await group({ vpcId, securityGroupType: 'enterprise' });
  const sh = ecsClient(srv, { regionId: 'cn-shanghai' });
  g.shanghai = (
    await sh.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: 'cn-shanghai' }))
  ).body!.securityGroupId!;
});

after(() => srv?.stop());

describe('AuthorizeSecurityGroup / AuthorizeSecurityGroupEgress parameter errors', () => {
  const cases: [string, () => Promise<unknown>, string, number][] = [
    [
      'unknown group',
      () => ingress({ securityGroupId: 'sg-nope', ...tcp22, sourceCidrIp: '1.1.1.1' }),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'group of another region',
      () => ingress({ securityGroupId: g.shanghai, ...tcp22, sourceCidrIp: '1.1.1.1' }),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'unknown region',
      () =>
        ingress({
          regionId: 'mars-1',
          securityGroupId: g.classic,
          ...tcp22,
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidRegionId.NotFound',
      404,
    ],
    [
      'missing RegionId',
      () =>
        signedV1(srv, {
          Action: 'AuthorizeSecurityGroup',
          Version: '2014-05-26',
          SecurityGroupId: g.classic,
          IpProtocol: 'tcp',
          PortRange: '22/22',
          SourceCidrIp: '1.1.1.1',
        }),
      'MissingParameter',
      400,
    ],
    [
      'missing IpProtocol',
      () => ingress({ securityGroupId: g.classic, portRange: '22/22', sourceCidrIp: '1.1.1.1' }),
      'MissingParameter',
      400,
    ],
    [
      'missing PortRange',
      () => ingress({ securityGroupId: g.classic, ipProtocol: 'tcp', sourceCidrIp: '1.1.1.1' }),
      'MissingParameter',
      400,
    ],
    [
      'protocol not supported',
      () =>
        ingress({
          securityGroupId: g.classic,
          ipProtocol: 'sctp',
          portRange: '22/22',
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidIpProtocol.ValueNotSupported',
      400,
    ],
    [
      'protocol not a name',
      () =>
        ingress({
          securityGroupId: g.classic,
          ipProtocol: 'tcp/6',
          portRange: '22/22',
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidIpProtocol.Malformed',
      400,
    ],
    [
      'reversed port range',
      () =>
        ingress({
          securityGroupId: g.classic,
          ipProtocol: 'tcp',
          portRange: '200/1',
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidParam.PortRange',
      400,
    ],
    [
      'port 0',
      () =>
        ingress({
          securityGroupId: g.classic,
          ipProtocol: 'tcp',
          portRange: '0/22',
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidParam.PortRange',
      400,
    ],
    [
      'port 65536',
      () =>
        ingress({
          securityGroupId: g.classic,
          ipProtocol: 'udp',
          portRange: '1/65536',
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidParam.PortRange',
      400,
    ],
    [
      'port range without slash',
      () =>
        egress({
          securityGroupId: g.classic,
          ipProtocol: 'tcp',
          portRange: '22',
          destCidrIp: '1.1.1.1',
        }),
      'InvalidParam.PortRange',
      400,
    ],
    [
      'bad SourcePortRange',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          sourcePortRange: '9/1',
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidParam.PortRange',
      400,
    ],
    [
      'tcp with -1/-1',
      () =>
        ingress({
          securityGroupId: g.classic,
          ipProtocol: 'tcp',
          portRange: '-1/-1',
          sourceCidrIp: '1.1.1.1',
        }),
      'OperationDenied',
      400,
    ],
    [
      'icmp with 22/22',
      () =>
        egress({
          securityGroupId: g.classic,
          ipProtocol: 'icmp',
          portRange: '22/22',
          destCidrIp: '1.1.1.1',
        }),
      'OperationDenied',
      400,
    ],
    [
      'bad policy',
      () =>
        ingress({ securityGroupId: g.classic, ...tcp22, policy: 'deny', sourceCidrIp: '1.1.1.1' }),
      'InvalidPolicy.Malformed',
      400,
    ],
    [
      'priority not an integer',
      () =>
        ingress({ securityGroupId: g.classic, ...tcp22, priority: '1.5', sourceCidrIp: '1.1.1.1' }),
      'InvalidPriority.Malformed',
      400,
    ],
    [
      'priority 0',
      () =>
        ingress({ securityGroupId: g.classic, ...tcp22, priority: '0', sourceCidrIp: '1.1.1.1' }),
      'InvalidPriority.ValueNotSupported',
      400,
    ],
    [
      'priority 101',
      () =>
        egress({ securityGroupId: g.classic, ...tcp22, priority: '101', destCidrIp: '1.1.1.1' }),
      'InvalidPriority.ValueNotSupported',
      400,
    ],
    [
      'bad NicType',
      () =>
        ingress({ securityGroupId: g.classic, ...tcp22, nicType: 'wan', sourceCidrIp: '1.1.1.1' }),
      'InvalidNicType.ValueNotSupported',
      400,
    ],
    [
      'internet on a VPC group',
      () =>
        ingress({
          securityGroupId: g.vpcA,
          ...tcp22,
          nicType: 'internet',
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidNicType.Mismatch',
      400,
    ],
    [
      'description over 512',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          description: 'x'.repeat(513),
          sourceCidrIp: '1.1.1.1',
        }),
      'InvalidSecurityGroupDiscription.Malformed',
      400,
    ],
    [
      'description starting http://',
      () =>
        egress({
          securityGroupId: g.classic,
          ...tcp22,
          description: 'http://x',
          destCidrIp: '1.1.1.1',
        }),
      'InvalidSecurityGroupDiscription.Malformed',
      400,
    ],
    [
      'malformed SourceCidrIp',
      () => ingress({ securityGroupId: g.classic, ...tcp22, sourceCidrIp: '10.0.0.256/8' }),
      'InvalidSourceCidrIp.Malformed',
      400,
    ],
    [
      'malformed DestCidrIp (egress far end)',
      () => egress({ securityGroupId: g.classic, ...tcp22, destCidrIp: '10.0.0.0/33' }),
      'InvalidDestCidrIp.Malformed',
      400,
    ],
    [
      'malformed DestCidrIp (ingress near end)',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          sourceCidrIp: '1.1.1.1',
          destCidrIp: 'ten',
        }),
      'InvalidDestCidrIp.Malformed',
      400,
    ],
    [
      'IPv6 in SourceCidrIp',
      () => ingress({ securityGroupId: g.vpcA, ...tcp22, sourceCidrIp: '2001:db8::/32' }),
      'InvalidParam.SourceIp',
      400,
    ],
    [
      'IPv6 in DestCidrIp',
      () => egress({ securityGroupId: g.vpcA, ...tcp22, destCidrIp: '2001:db8::/32' }),
      'InvalidParam.DestIp',
      400,
    ],
    [
      'malformed Ipv6SourceCidrIp',
      () => ingress({ securityGroupId: g.vpcA, ...tcp22, ipv6SourceCidrIp: '2001:db8::g/32' }),
      'InvalidParam.Ipv6SourceCidrIp',
      400,
    ],
    [
      'malformed Ipv6DestCidrIp',
      () => egress({ securityGroupId: g.vpcA, ...tcp22, ipv6DestCidrIp: '10.0.0.0/8' }),
      'InvalidParam.Ipv6DestCidrIp',
      400,
    ],
    [
      'IPv6 prefix over 128',
      () => ingress({ securityGroupId: g.vpcA, ...tcp22, ipv6SourceCidrIp: '2001:db8::/129' }),
      'ILLEGAL_IPV6_CIDR',
      400,
    ],
    [
      'IPv4 far end with IPv6 near end',
      () =>
        ingress({
          securityGroupId: g.vpcA,
          ...tcp22,
          sourceCidrIp: '10.0.0.0/8',
          ipv6DestCidrIp: '2001:db8::/64',
        }),
      'InvalidParam.Ipv4ProtocolConflictWithIpv6Address',
      400,
    ],
    [
      'IPv6 far end with IPv4 near end',
      () =>
        egress({
          securityGroupId: g.vpcA,
          ...tcp22,
          ipv6DestCidrIp: '2001:db8::/64',
          sourceCidrIp: '10.0.0.0/8',
        }),
      'InvalidParam.Ipv6ProtocolConflictWithIpv4Address',
      400,
    ],
    [
      'IPv6 on a classic group',
      () => ingress({ securityGroupId: g.classic, ...tcp22, ipv6SourceCidrIp: '2001:db8::/32' }),
      'InvalidSecurityGroup.InvalidNetworkType',
      400,
    ],
    [
      'no far end (ingress)',
      () => ingress({ securityGroupId: g.classic, ...tcp22 }),
      'MissingParameter',
      403,
    ],
    [
      'no far end (egress)',
      () => egress({ securityGroupId: g.classic, ...tcp22 }),
      'MissingParameter',
      403,
    ],
    [
      'owner without DestGroupId',
      () => egress({ securityGroupId: g.classic, ...tcp22, destGroupOwnerAccount: 'default' }),
      'MissingParameter.Dest',
      400,
    ],
    [
      'unknown SourceGroupId',
      () => ingress({ securityGroupId: g.classic, ...tcp22, sourceGroupId: 'sg-doesnotexist' }),
      'InvalidSourceGroupId.NotFound',
      404,
    ],
    [
      'unknown DestGroupId',
      () => egress({ securityGroupId: g.classic, ...tcp22, destGroupId: 'sg-doesnotexist' }),
      'InvalidDestGroupId.NotFound',
      404,
    ],
    [
      'SourceGroupId of an unknown owner',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          sourceGroupId: g.classic2,
          sourceGroupOwnerAccount: 'nobody',
        }),
      'InvalidSourceGroupId.NotFound',
      404,
    ],
    [
      'SourceGroupId not a group id',
      () => ingress({ securityGroupId: g.classic, ...tcp22, sourceGroupId: 'not-a-group!' }),
      'InvalidSourceGroup.NotFound',
      400,
    ],
    [
      'DestGroupId not a group id',
      () => egress({ securityGroupId: g.classic, ...tcp22, destGroupId: 'GROUP' }),
      'InvalidDestGroup.NotFound',
      400,
    ],
    [
      'ingress from itself',
      () => ingress({ securityGroupId: g.classic, ...tcp22, sourceGroupId: g.classic }),
      'InvalidParamter.Conflict',
      403,
    ],
    [
      'egress to itself',
      () => egress({ securityGroupId: g.vpcA, ...tcp22, destGroupId: g.vpcA }),
      'InvalidParamter.Conflict',
      403,
    ],
    [
      'classic group from a VPC group',
      () => ingress({ securityGroupId: g.classic, ...tcp22, sourceGroupId: g.vpcA }),
      'InvalidNetworkType.Mismatch',
      403,
    ],
    [
      'classic group to a VPC group',
      () => egress({ securityGroupId: g.classic, ...tcp22, destGroupId: g.vpcA }),
      'InvalidNetworkType.Conflict',
      403,
    ],
    [
      'source group in another VPC',
      () => ingress({ securityGroupId: g.vpcA, ...tcp22, sourceGroupId: g.otherVpc }),
      'InvalidSourceGroupId.Mismatch',
      400,
    ],
    [
      'dest group in another VPC',
      () => egress({ securityGroupId: g.vpcA, ...tcp22, destGroupId: g.otherVpc }),
      'InvalidDestGroupId.Mismatch',
      400,
    ],
    [
      'group rule with NicType internet (ingress)',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          sourceGroupId: g.classic2,
          nicType: 'internet',
        }),
      'InvalidSourceGroupId.Mismatch',
      403,
    ],
    [
      'group rule with NicType internet (egress)',
      () =>
        egress({
          securityGroupId: g.classic,
          ...tcp22,
          destGroupId: g.classic2,
          nicType: 'internet',
        }),
      'InvalidDestGroupId.Mismatch',
      403,
    ],
    [
      'enterprise group referencing a group',
      () => ingress({ securityGroupId: g.enterprise, ...tcp22, sourceGroupId: g.vpcA }),
      'InvalidSecurityGroupType.NotSupportGroupAuth',
      400,
    ],
    [
      'flat and Permissions.N mixed',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          sourceCidrIp: '1.1.1.1',
          permissions: [
            new $Ecs.AuthorizeSecurityGroupRequestPermissions({
              ...tcp22,
              sourceCidrIp: '1.1.1.2',
            }),
          ],
        }),
      'InvalidParameter.Conflict',
      400,
    ],
    [
      'more than 100 permissions',
      () =>
        ingress({
          securityGroupId: g.classic,
          permissions: Array.from(
            { length: 101 },
            (_, i) =>
              new $Ecs.AuthorizeSecurityGroupRequestPermissions({
                ipProtocol: 'tcp',
                portRange: `${i + 1}/${i + 1}`,
                sourceCidrIp: '1.1.1.1',
              }),
          ),
        }),
      'InvalidParameter.TooMany',
      400,
    ],
    [
      'ClientToken over 64 characters',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          sourceCidrIp: '1.1.1.1',
          clientToken: 'x'.repeat(65),
        }),
      'InvalidParameter',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      const info = await expectApiError(call(), code, status);
      assert.equal(info.status, status);
    });
  }

  test('the group is untouched by all the failed calls', async () => {
    for (const id of [g.classic, g.vpcA]) {
      const a = await ecs.describeSecurityGroupAttribute(
        new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: id }),
      );
      assert.deepEqual(a.body!.permissions!.permission, []);
    }
  });
});

describe('rule state errors', () => {
  test('duplicate → InvalidPermission.Duplicate 400; identity ignores priority and description', async () => {
    const id = await group();
    await ingress({ securityGroupId: id, ...tcp22, sourceCidrIp: '10.0.0.1', priority: '3' });
    await expectApiError(
      ingress({
        securityGroupId: id,
        ...tcp22,
        sourceCidrIp: '10.0.0.1/32',
        priority: '9',
        description: 'other',
      }),
      'InvalidPermission.Duplicate',
      400,
    );
    // Two identical permissions in one call are a duplicate too, and nothing is added.
    await expectApiError(
      ingress({
        securityGroupId: id,
        permissions: [1, 2].map(
          () =>
            new $Ecs.AuthorizeSecurityGroupRequestPermissions({
              ipProtocol: 'udp',
              portRange: '53/53',
              sourceCidrIp: '0.0.0.0/0',
            }),
        ),
      }),
      'InvalidPermission.Duplicate',
      400,
    );
    const a = await ecs.describeSecurityGroupAttribute(
      new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: id }),
    );
    assert.equal(a.body!.permissions!.permission!.length, 1);
  });

  test('101st rule → AuthorizationLimitExceed 403, counting ingress and egress; all-or-nothing', async () => {
    const id = await group();
    const perms = (from: number, n: number) =>
      Array.from(
        { length: n },
        (_, i) =>
          new $Ecs.AuthorizeSecurityGroupRequestPermissions({
            ipProtocol: 'tcp',
            portRange: `${from + i}/${from + i}`,
            sourceCidrIp: '10.0.0.0/8',
          }),
      );
    await ingress({ securityGroupId: id, permissions: perms(1, 60) });
    await egress({
      securityGroupId: id,
      permissions: Array.from(
        { length: 39 },
        (_, i) =>
          new $Ecs.AuthorizeSecurityGroupEgressRequestPermissions({
            ipProtocol: 'tcp',
            portRange: `${i + 1}/${i + 1}`,
            destCidrIp: '10.0.0.0/8',
          }),
      ),
    });
    // 99 rules: a call adding 2 would cross the limit and adds nothing.
    await expectApiError(
      ingress({ securityGroupId: id, permissions: perms(1000, 2) }),
      'AuthorizationLimitExceed',
      403,
    );
    await ingress({ securityGroupId: id, permissions: perms(2000, 1) });
    await expectApiError(
      ingress({ securityGroupId: id, ...tcp22, sourceCidrIp: '1.2.3.4' }),
      'AuthorizationLimitExceed',
      403,
    );
    await expectApiError(
      egress({ securityGroupId: id, ...tcp22, destCidrIp: '1.2.3.4' }),
      'AuthorizationLimitExceed',
      403,
    );
    const d = await ecs.describeSecurityGroups(
      new $Ecs.DescribeSecurityGroupsRequest({ regionId: R, securityGroupId: id }),
    );
    assert.equal(d.body!.securityGroups!.securityGroup![0]!.ruleCount, 100);
  });

  test('ClientToken reused with other parameters → IdempotentParameterMismatch 400', async () => {
    const id = await group();
    await ingress({
      securityGroupId: id,
      ...tcp22,
      sourceCidrIp: '10.0.0.1',
      clientToken: 'tok-1',
    });
    await expectApiError(
      ingress({ securityGroupId: id, ...tcp22, sourceCidrIp: '10.0.0.2', clientToken: 'tok-1' }),
      'IdempotentParameterMismatch',
      400,
    );
  });

  test('unknown rule ids: ingress → InvalidParam.SecurityGroupRuleId, egress → InvalidSecurityGroupRule.RuleNotExist', async () => {
    const id = await group();
    await ingress({ securityGroupId: id, ...tcp22, sourceCidrIp: '10.0.0.1' });
    const a = await ecs.describeSecurityGroupAttribute(
      new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: id }),
    );
    const ingressRule = a.body!.permissions!.permission![0]!.securityGroupRuleId!;
    await expectApiError(
      ecs.revokeSecurityGroup(
        new $Ecs.RevokeSecurityGroupRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: ['sgr-nope'],
        }),
      ),
      'InvalidParam.SecurityGroupRuleId',
      400,
    );
    // An ingress rule's id is unknown to the egress actions.
    await expectApiError(
      ecs.revokeSecurityGroupEgress(
        new $Ecs.RevokeSecurityGroupEgressRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: [ingressRule],
        }),
      ),
      'InvalidSecurityGroupRule.RuleNotExist',
      400,
    );
    await expectApiError(
      ecs.modifySecurityGroupRule(
        new $Ecs.ModifySecurityGroupRuleRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: 'sgr-nope',
          description: 'x',
        }),
      ),
      'InvalidParam.SecurityGroupRuleId',
      400,
    );
    await expectApiError(
      ecs.modifySecurityGroupEgressRule(
        new $Ecs.ModifySecurityGroupEgressRuleRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: ingressRule,
          description: 'x',
        }),
      ),
      'InvalidSecurityGroupRule.RuleNotExist',
      400,
    );
  });

  test('Modify*Rule: kind change → InvalidParameter.Conflict; duplicate; egress to itself → InvalidSecurityGroup.IsSame', async () => {
    const id = await group({ vpcId });
    await ingress({
      securityGroupId: id,
      permissions: ['22/22', '80/80'].map(
        (portRange) =>
          new $Ecs.AuthorizeSecurityGroupRequestPermissions({
            ipProtocol: 'tcp',
            portRange,
            sourceCidrIp: '10.0.0.0/8',
          }),
      ),
    });
    await egress({ securityGroupId: id, ...tcp22, destGroupId: g.vpcA });
    const rules = (
      await ecs.describeSecurityGroupAttribute(
        new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: id }),
      )
    ).body!.permissions!.permission!;
    const r22 = rules.find((r) => r.portRange === '22/22' && r.direction === 'ingress')!
      .securityGroupRuleId!;
    const out = rules.find((r) => r.direction === 'egress')!.securityGroupRuleId!;
    await expectApiError(
      ecs.modifySecurityGroupRule(
        new $Ecs.ModifySecurityGroupRuleRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: r22,
          sourceGroupId: g.vpcA,
        }),
      ),
      'InvalidParameter.Conflict',
      400,
    );
    await expectApiError(
      ecs.modifySecurityGroupRule(
        new $Ecs.ModifySecurityGroupRuleRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: r22,
          portRange: '80/80',
        }),
      ),
      'InvalidPermission.Duplicate',
      400,
    );
    await expectApiError(
      ecs.modifySecurityGroupEgressRule(
        new $Ecs.ModifySecurityGroupEgressRuleRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: out,
          destGroupId: id,
        }),
      ),
      'InvalidSecurityGroup.IsSame',
      403,
    );
    await expectApiError(
      ecs.modifySecurityGroupRule(
        new $Ecs.ModifySecurityGroupRuleRequest({
          regionId: R,
          securityGroupId: id,
          securityGroupRuleId: r22,
          priority: '0',
        }),
      ),
      'InvalidPriority.ValueNotSupported',
      400,
    );
  });
});

describe('group, VPC and paging errors', () => {
  const create = (p: Partial<$Ecs.CreateSecurityGroupRequest>) =>
    ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, ...p }));
  const cases: [string, () => Promise<unknown>, string, number][] = [
    ['unknown VpcId', () => create({ vpcId: 'vpc-nope' }), 'InvalidVpcId.NotFound', 404],
    [
      'name starting with a digit',
      () => create({ securityGroupName: '1web' }),
      'InvalidSecurityGroupName.Malformed',
      400,
    ],
    [
      'name of one character',
      () => create({ securityGroupName: 'a' }),
      'InvalidSecurityGroupName.Malformed',
      400,
    ],
    [
      'name starting http://',
      () => create({ securityGroupName: 'http://x' }),
      'InvalidSecurityGroupName.Malformed',
      400,
    ],
    [
      'description over 256',
      () => create({ description: 'd'.repeat(257) }),
      'InvalidDescription.Malformed',
      400,
    ],
    [
      'description starting https://',
      () => create({ description: 'https://x' }),
      'InvalidDescription.Malformed',
      400,
    ],
    [
      'a NUL character in a free-text value',
      () => create({ resourceGroupId: 'rg-\u0000' }),
      'InvalidParameter',
      400,
    ],
    [
      'a NUL character in a rule value',
      () =>
        ingress({
          securityGroupId: g.classic,
          ...tcp22,
          sourceCidrIp: '1.1.1.1',
          description: 'a\u0000b',
        }),
      'InvalidParameter',
      400,
    ],
    [
      'bad SecurityGroupType',
      () => create({ securityGroupType: 'premium' }),
      'InvalidSecurityGroupType.ValueNotSupported',
      400,
    ],
    [
      'duplicate tag key',
      () =>
        create({
          tag: ['a', 'a'].map((key) => new $Ecs.CreateSecurityGroupRequestTag({ key, value: 'v' })),
        }),
      'Duplicate.TagKey',
      400,
    ],
    [
      'tag key starting aliyun',
      () =>
        create({ tag: [new $Ecs.CreateSecurityGroupRequestTag({ key: 'aliyun:x', value: 'v' })] }),
      'InvalidTagKey.Malformed',
      400,
    ],
    [
      'tag value over 128',
      () =>
        create({
          tag: [new $Ecs.CreateSecurityGroupRequestTag({ key: 'k', value: 'v'.repeat(129) })],
        }),
      'InvalidTagValue.Malformed',
      400,
    ],
    [
      'ModifySecurityGroupAttribute with a bad name',
      () =>
        ecs.modifySecurityGroupAttribute(
          new $Ecs.ModifySecurityGroupAttributeRequest({
            regionId: R,
            securityGroupId: g.classic,
            securityGroupName: '-x',
          }),
        ),
      'InvalidSecurityGroupName.Malformed',
      400,
    ],
    [
      'ModifySecurityGroupPolicy with a bad policy',
      () =>
        ecs.modifySecurityGroupPolicy(
          new $Ecs.ModifySecurityGroupPolicyRequest({
            regionId: R,
            securityGroupId: g.classic,
            innerAccessPolicy: 'Maybe',
          }),
        ),
      'InvalidInnerAccessPolicy.ValueNotSupported',
      400,
    ],
    [
      'ModifySecurityGroupPolicy Accept on an enterprise group',
      () =>
        ecs.modifySecurityGroupPolicy(
          new $Ecs.ModifySecurityGroupPolicyRequest({
            regionId: R,
            securityGroupId: g.enterprise,
            innerAccessPolicy: 'accept',
          }),
        ),
      'InvalidInnerAccessPolicy.ValueNotSupported',
      400,
    ],
    [
      'DescribeSecurityGroupAttribute of an unknown group',
      () =>
        ecs.describeSecurityGroupAttribute(
          new $Ecs.DescribeSecurityGroupAttributeRequest({
            regionId: R,
            securityGroupId: 'sg-nope',
          }),
        ),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'DescribeSecurityGroupAttribute with a bad NextToken',
      () =>
        ecs.describeSecurityGroupAttribute(
          new $Ecs.DescribeSecurityGroupAttributeRequest({
            regionId: R,
            securityGroupId: g.classic,
            maxResults: 10,
            nextToken: 'garbage',
          }),
        ),
      'InvalidNextToken.Malformed',
      400,
    ],
    [
      'DescribeSecurityGroups with malformed SecurityGroupIds',
      () =>
        ecs.describeSecurityGroups(
          new $Ecs.DescribeSecurityGroupsRequest({ regionId: R, securityGroupIds: '[sg-1' }),
        ),
      'InvalidParameter',
      400,
    ],
    [
      'DescribeSecurityGroups with PageSize 0',
      () =>
        ecs.describeSecurityGroups(
          new $Ecs.DescribeSecurityGroupsRequest({ regionId: R, pageSize: 0 }),
        ),
      'InvalidPageSize.Malformed',
      400,
    ],
    [
      'DescribeSecurityGroups with PageNumber 0',
      () =>
        ecs.describeSecurityGroups(
          new $Ecs.DescribeSecurityGroupsRequest({ regionId: R, pageNumber: 0 }),
        ),
      'InvalidPageNumber.Malformed',
      400,
    ],
    [
      'DescribeSecurityGroupReferences of an unknown group',
      () =>
        ecs.describeSecurityGroupReferences(
          new $Ecs.DescribeSecurityGroupReferencesRequest({
            regionId: R,
            securityGroupId: ['sg-nope'],
          }),
        ),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'DescribeSecurityGroupReferences of 11 groups',
      () =>
        ecs.describeSecurityGroupReferences(
          new $Ecs.DescribeSecurityGroupReferencesRequest({
            regionId: R,
            securityGroupId: Array.from({ length: 11 }, () => g.classic),
          }),
        ),
      'InvalidParameter.TooMany',
      400,
    ],
    [
      'DeleteSecurityGroup of an unknown group',
      () =>
        ecs.deleteSecurityGroup(
          new $Ecs.DeleteSecurityGroupRequest({ regionId: R, securityGroupId: 'sg-nope' }),
        ),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'CreateVpc with a bad CidrBlock',
      () => vpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: R, cidrBlock: '10.0.0.0/30' })),
      'InvalidCidrBlock.Malformed',
      400,
    ],
    [
      'DeleteVpc of an unknown VPC',
      () => vpc.deleteVpc(new $Vpc.DeleteVpcRequest({ regionId: R, vpcId: 'vpc-nope' })),
      'InvalidVpcId.NotFound',
      404,
    ],
    [
      'DeleteVpc while it holds groups',
      () => vpc.deleteVpc(new $Vpc.DeleteVpcRequest({ regionId: R, vpcId })),
      'DependencyViolation.SecurityGroup',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      const info = await expectApiError(call(), code, status);
      assert.equal(info.status, status);
    });
  }

  test('DeleteSecurityGroup of a referenced group → DependencyViolation 403', async () => {
    const a = await group();
    const b = await group();
    await ingress({ securityGroupId: a, ...tcp22, sourceGroupId: b });
    await expectApiError(
      ecs.deleteSecurityGroup(
        new $Ecs.DeleteSecurityGroupRequest({ regionId: R, securityGroupId: b }),
      ),
      'DependencyViolation',
      403,
    );
    // Deleting the referencing group (and with it its rules) frees the other.
    await ecs.deleteSecurityGroup(
      new $Ecs.DeleteSecurityGroupRequest({ regionId: R, securityGroupId: a }),
    );
    await ecs.deleteSecurityGroup(
      new $Ecs.DeleteSecurityGroupRequest({ regionId: R, securityGroupId: b }),
    );
  });
});

describe('QuotaExceed.SecurityGroup', () => {
  let small: TestServer;
  before(async () => {
    small = await startServer({ args: ['--max-groups-per-region', '3'] });
  });
  after(() => small?.stop());

  test('the fourth group in a region → QuotaExceed.SecurityGroup 400; other regions unaffected', async () => {
    const c = ecsClient(small);
    for (let i = 0; i < 3; i++) {
      await c.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R }));
    }
    await expectApiError(
      c.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R })),
      'QuotaExceed.SecurityGroup',
      400,
    );
    await c.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: 'cn-beijing' }));
  });
});
