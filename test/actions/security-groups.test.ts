/** Behaviour of the security-group actions through the official SDK (success paths). */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import * as $Vpc from '@alicloud/vpc20160428';
import { XMLParser } from 'fast-xml-parser';
import { type EcsClient, ecsClient, signedV1, vpcClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { PERMISSION_FIELDS } from './support.js';

const R = 'cn-hangzhou';
let srv: TestServer;
let ecs: EcsClient;
let vpcId = '';

const create = async (p: Partial<$Ecs.CreateSecurityGroupRequest> = {}) =>
  (await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, ...p }))).body!
    .securityGroupId!;
const ingress = (p: Partial<$Ecs.AuthorizeSecurityGroupRequest>) =>
  ecs.authorizeSecurityGroup(new $Ecs.AuthorizeSecurityGroupRequest({ regionId: R, ...p }));
const egress = (p: Partial<$Ecs.AuthorizeSecurityGroupEgressRequest>) =>
  ecs.authorizeSecurityGroupEgress(
    new $Ecs.AuthorizeSecurityGroupEgressRequest({ regionId: R, ...p }),
  );
const attribute = async (id: string, p: Partial<$Ecs.DescribeSecurityGroupAttributeRequest> = {}) =>
  (
    await ecs.describeSecurityGroupAttribute(
      new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: id, ...p }),
    )
  ).body!;
const rules = async (id: string, p: Partial<$Ecs.DescribeSecurityGroupAttributeRequest> = {}) =>
  (await attribute(id, p)).permissions!.permission!;

before(async () => {
  srv = await startServer();
  ecs = ecsClient(srv);
  vpcId = (
    await vpcClient(srv).createVpc(
      new $Vpc.CreateVpcRequest({ regionId: R, cidrBlock: '10.0.0.0/16', vpcName: 'main' }),
    )
  ).body!.vpcId!;
});
after(() => srv?.stop());

describe('rule values as stored and returned', () => {
  test('CIDRs as written, defaults and every Permission field', async () => {
    const id = await create();
    await ingress({
      securityGroupId: id,
      ipProtocol: 'TcP',
      portRange: '80/443',
      sourceCidrIp: '192.168.7.9/16',
      policy: 'ALLOW',
      description: 'web',
    });
    await ingress({
      securityGroupId: id,
      ipProtocol: 'icmp',
      portRange: '-1/-1',
      sourceCidrIp: '8.8.8.8',
    });
    const [b, a] = await rules(id); // equal priority and policy: creation order
    assert.equal(b!.ipProtocol, 'TCP');
    assert.equal(b!.portRange, '80/443');
    assert.equal(b!.sourceCidrIp, '192.168.7.9/16', 'as written, host bits and all');
    assert.equal(b!.policy, 'Accept');
    assert.equal(b!.priority, '1');
    assert.equal(b!.nicType, 'internet', 'classic group, CIDR rule: internet');
    assert.equal(b!.description, 'web');
    assert.match(b!.securityGroupRuleId!, /^sgr-[0-9a-z]{20}$/);
    assert.match(b!.createTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(a!.sourceCidrIp, '8.8.8.8', 'a plain address stays plain');
    // Every field is present (empty string when unused), as the SDK models expect.
    const raw = await signedV1(srv, {
      Action: 'DescribeSecurityGroupAttribute',
      Version: '2014-05-26',
      RegionId: R,
      SecurityGroupId: id,
    });
    const perm = (raw.body as { Permissions: { Permission: Record<string, unknown>[] } })
      .Permissions.Permission[0]!;
    for (const f of PERMISSION_FIELDS) {
      assert.equal(typeof perm[f], 'string', `${f} present as a string`);
    }
    assert.equal(perm.Priority, '1');
  });

  test('VPC group: NicType intranet by default, IPv6 normalised, group rules intranet', async () => {
    const id = await create({ vpcId });
    const other = await create({ vpcId, securityGroupName: 'peer' });
    await ingress({
      securityGroupId: id,
      ipProtocol: 'udp',
      portRange: '53/53',
      ipv6SourceCidrIp: '2001:DB8:0:0::1/48',
    });
    await ingress({
      securityGroupId: id,
      ipProtocol: 'tcp',
      portRange: '22/22',
      sourceGroupId: other,
      destCidrIp: '10.0.1.0/24',
    });
    await egress({
      securityGroupId: id,
      ipProtocol: 'all',
      portRange: '-1/-1',
      destGroupId: other,
      policy: 'drop',
      priority: '7',
    });
    const list = await rules(id);
    const v6 = list.find((r) => r.ipv6SourceCidrIp)!;
    assert.equal(v6.ipv6SourceCidrIp, '2001:db8::1/48', 'RFC 5952 spelling, host bits kept');
    assert.equal(v6.nicType, 'intranet');
    const grp = list.find((r) => r.sourceGroupId)!;
    assert.equal(grp.sourceGroupName, 'peer');
    assert.equal(grp.destCidrIp, '10.0.1.0/24', 'near end of an ingress rule is DestCidrIp');
    assert.equal(grp.nicType, 'intranet');
    const out = list.find((r) => r.direction === 'egress')!;
    assert.deepEqual(
      [out.ipProtocol, out.destGroupId, out.policy, out.priority],
      ['ALL', other, 'Drop', '7'],
    );
    // A CIDR and a group both given: the CIDR wins and the group is ignored.
    await ingress({
      securityGroupId: id,
      ipProtocol: 'tcp',
      portRange: '8080/8080',
      sourceCidrIp: '10.9.0.0/16',
      sourceGroupId: 'sg-ignored',
    });
    const both = (await rules(id)).find((r) => r.portRange === '8080/8080')!;
    assert.deepEqual([both.sourceCidrIp, both.sourceGroupId], ['10.9.0.0/16', '']);
  });

  test('evaluation order: priority, then drop before accept, then creation', async () => {
    const id = await create();
    const p = (portRange: string, policy: string, priority: string) =>
      new $Ecs.AuthorizeSecurityGroupRequestPermissions({
        ipProtocol: 'tcp',
        portRange,
        policy,
        priority,
        sourceCidrIp: '0.0.0.0/0',
      });
    await ingress({
      securityGroupId: id,
      permissions: [
        p('1/1', 'accept', '2'),
        p('2/2', 'accept', '1'),
        p('3/3', 'drop', '2'),
        p('4/4', 'drop', '1'),
        p('5/5', 'accept', '1'),
      ],
    });
    assert.deepEqual(
      (await rules(id)).map((r) => r.portRange),
      ['4/4', '2/2', '5/5', '3/3', '1/1'],
    );
  });

  test('Direction and NicType filters; MaxResults/NextToken paging', async () => {
    const id = await create();
    await ingress({
      securityGroupId: id,
      permissions: Array.from(
        { length: 25 },
        (_, i) =>
          new $Ecs.AuthorizeSecurityGroupRequestPermissions({
            ipProtocol: 'tcp',
            portRange: `${i + 1}/${i + 1}`,
            sourceCidrIp: '10.0.0.0/8',
            nicType: i % 2 ? 'intranet' : 'internet',
          }),
      ),
    });
    await egress({
      securityGroupId: id,
      ipProtocol: 'udp',
      portRange: '1/2',
      destCidrIp: '1.0.0.0/8',
    });
    assert.equal((await rules(id)).length, 26);
    assert.equal((await rules(id, { direction: 'egress' })).length, 1);
    assert.equal((await rules(id, { direction: 'ingress', nicType: 'intranet' })).length, 12);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await attribute(id, { maxResults: 10, nextToken: token });
      seen.push(...page.permissions!.permission!.map((r) => r.securityGroupRuleId!));
      token = page.nextToken || undefined;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 26);
  });
});

describe('rendered permissions', () => {
  test('renaming a referenced group shows in the rules that name it; XML lists them all', async () => {
    const id = await create({ vpcId });
    const peer = await create({ vpcId, securityGroupName: 'before' });
    await ingress({
      securityGroupId: id,
      ipProtocol: 'tcp',
      portRange: '22/22',
      sourceGroupId: peer,
    });
    await ingress({
      securityGroupId: id,
      ipProtocol: 'tcp',
      portRange: '80/80',
      sourceCidrIp: '10.0.0.0/8',
    });
    assert.equal((await rules(id)).find((r) => r.sourceGroupId)!.sourceGroupName, 'before');
    await ecs.modifySecurityGroupAttribute(
      new $Ecs.ModifySecurityGroupAttributeRequest({
        regionId: R,
        securityGroupId: peer,
        securityGroupName: 'after',
      }),
    );
    assert.equal((await rules(id)).find((r) => r.sourceGroupId)!.sourceGroupName, 'after');
    const r = await signedV1(
      srv,
      {
        Action: 'DescribeSecurityGroupAttribute',
        Version: '2014-05-26',
        RegionId: R,
        SecurityGroupId: id,
      },
      { format: 'XML' },
    );
    const doc = new XMLParser({ isArray: (name) => name === 'Permission' }).parse(r.text);
    const perms = doc.DescribeSecurityGroupAttributeResponse.Permissions.Permission;
    assert.deepEqual(perms.map((p: { PortRange: string }) => p.PortRange).sort(), [
      '22/22',
      '80/80',
    ]);
    assert.equal(
      perms.find((p: { SourceGroupId: string }) => p.SourceGroupId === peer).SourceGroupName,
      'after',
    );
  });
});

describe('repeated reads', () => {
  test('the same Describe twice: same content, own RequestIds; each write in between shows', async () => {
    const id = await create({ vpcId });
    const read = async (format: 'JSON' | 'XML') =>
      signedV1(
        srv,
        {
          Action: 'DescribeSecurityGroupAttribute',
          Version: '2014-05-26',
          RegionId: R,
          SecurityGroupId: id,
        },
        { format },
      );
    const ids = new Set<string>();
    for (const format of ['JSON', 'XML'] as const) {
      const [a, b] = [await read(format), await read(format)];
      const idOf = (t: string) => /RequestId(?:":"|>)([^"<]+)/.exec(t)![1]!;
      ids.add(idOf(a.text)).add(idOf(b.text));
      assert.equal(a.text.replace(idOf(a.text), ''), b.text.replace(idOf(b.text), ''));
    }
    assert.equal(ids.size, 4, 'every answer its own RequestId');
    for (let k = 0; k < 3; k++) {
      await ingress({
        securityGroupId: id,
        ipProtocol: 'tcp',
        portRange: `${k + 1}/${k + 1}`,
        sourceCidrIp: '10.0.0.0/8',
      });
      assert.equal((await rules(id)).length, k + 1);
      assert.equal((await read('JSON')).body.Permissions.Permission.length, k + 1);
    }
    await ecs.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: R,
        securityGroupId: id,
        ipProtocol: 'tcp',
        portRange: '1/1',
        sourceCidrIp: '10.0.0.0/8',
      }),
    );
    assert.equal((await rules(id)).length, 2);
  });
});

describe('revoke and modify', () => {
  test('revoke by SecurityGroupRuleId.N and by Permissions.N; no match is a success', async () => {
    const id = await create();
    await ingress({
      securityGroupId: id,
      permissions: ['1/1', '2/2', '3/3'].map(
        (portRange) =>
          new $Ecs.AuthorizeSecurityGroupRequestPermissions({
            ipProtocol: 'tcp',
            portRange,
            sourceCidrIp: '10.0.0.0/8',
          }),
      ),
    });
    const [r1] = await rules(id);
    await ecs.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: R,
        securityGroupId: id,
        securityGroupRuleId: [r1!.securityGroupRuleId!],
      }),
    );
    await ecs.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: R,
        securityGroupId: id,
        permissions: [
          new $Ecs.RevokeSecurityGroupRequestPermissions({
            ipProtocol: 'TCP',
            portRange: '2/2',
            sourceCidrIp: '10.1.2.3/8',
          }),
        ],
      }),
    );
    assert.deepEqual(
      (await rules(id)).map((r) => r.portRange),
      ['3/3'],
    );
    // Revoking what does not exist succeeds and removes nothing.
    await ecs.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: R,
        securityGroupId: id,
        ipProtocol: 'tcp',
        portRange: '3/3',
        sourceCidrIp: '10.0.0.0/8',
        policy: 'drop',
      }),
    );
    assert.equal((await rules(id)).length, 1);
  });

  test('ModifySecurityGroupRule keeps id and creation time, changes what is given', async () => {
    const id = await create();
    await ingress({
      securityGroupId: id,
      ipProtocol: 'tcp',
      portRange: '22/22',
      sourceCidrIp: '10.0.0.0/8',
      description: 'ssh',
    });
    const [before] = await rules(id);
    await ecs.modifySecurityGroupRule(
      new $Ecs.ModifySecurityGroupRuleRequest({
        regionId: R,
        securityGroupId: id,
        securityGroupRuleId: before!.securityGroupRuleId,
        portRange: '2222/2222',
        priority: '9',
        sourceCidrIp: '172.16.0.0/12',
      }),
    );
    const [changed] = await rules(id);
    assert.equal(changed!.securityGroupRuleId, before!.securityGroupRuleId);
    assert.equal(changed!.createTime, before!.createTime);
    assert.deepEqual(
      [changed!.portRange, changed!.priority, changed!.sourceCidrIp, changed!.description],
      ['2222/2222', '9', '172.16.0.0/12', 'ssh'],
    );
  });

  test('ModifySecurityGroupAttribute and ModifySecurityGroupPolicy read back', async () => {
    const id = await create({ securityGroupName: 'before' });
    await ecs.modifySecurityGroupAttribute(
      new $Ecs.ModifySecurityGroupAttributeRequest({
        regionId: R,
        securityGroupId: id,
        securityGroupName: 'after',
        description: 'renamed',
      }),
    );
    await ecs.modifySecurityGroupPolicy(
      new $Ecs.ModifySecurityGroupPolicyRequest({
        regionId: R,
        securityGroupId: id,
        innerAccessPolicy: 'drop',
      }),
    );
    const a = await attribute(id);
    assert.deepEqual(
      [a.securityGroupName, a.description, a.innerAccessPolicy],
      ['after', 'renamed', 'Drop'],
    );
  });
});

describe('ClientToken', () => {
  test('a repeat returns the first response, RequestId included, and changes nothing', async () => {
    const first = await ecs.createSecurityGroup(
      new $Ecs.CreateSecurityGroupRequest({ regionId: R, clientToken: 'create-once' }),
    );
    const again = await ecs.createSecurityGroup(
      new $Ecs.CreateSecurityGroupRequest({ regionId: R, clientToken: 'create-once' }),
    );
    assert.equal(again.body!.requestId, first.body!.requestId);
    assert.equal(again.body!.securityGroupId, first.body!.securityGroupId);
    const id = first.body!.securityGroupId!;
    const a1 = await ingress({
      securityGroupId: id,
      ipProtocol: 'tcp',
      portRange: '1/1',
      sourceCidrIp: '1.1.1.1',
      clientToken: 'auth-once',
    });
    const a2 = await ingress({
      securityGroupId: id,
      ipProtocol: 'tcp',
      portRange: '1/1',
      sourceCidrIp: '1.1.1.1',
      clientToken: 'auth-once',
    });
    assert.equal(a2.body!.requestId, a1.body!.requestId);
    assert.equal((await rules(id)).length, 1);
  });
});

describe('DescribeSecurityGroups', () => {
  test('filters, counts and both paging styles', async () => {
    const c = ecsClient(srv, { regionId: 'cn-beijing' });
    const vpcB = (
      await vpcClient(srv).createVpc(
        new $Vpc.CreateVpcRequest({ regionId: 'cn-beijing', cidrBlock: '192.168.0.0/16' }),
      )
    ).body!.vpcId!;
    const mk = async (p: Partial<$Ecs.CreateSecurityGroupRequest>) =>
      (
        await c.createSecurityGroup(
          new $Ecs.CreateSecurityGroupRequest({ regionId: 'cn-beijing', ...p }),
        )
      ).body!.securityGroupId!;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(
        await mk({
          securityGroupName: `grp${i}`,
          vpcId: i < 4 ? vpcB : undefined,
          securityGroupType: i === 0 ? 'enterprise' : undefined,
          tag:
            i % 3 === 0
              ? [new $Ecs.CreateSecurityGroupRequestTag({ key: 'team', value: 'a' })]
              : [],
        }),
      );
    }
    await c.authorizeSecurityGroup(
      new $Ecs.AuthorizeSecurityGroupRequest({
        regionId: 'cn-beijing',
        securityGroupId: ids[1],
        permissions: [
          new $Ecs.AuthorizeSecurityGroupRequestPermissions({
            ipProtocol: 'tcp',
            portRange: '1/1',
            sourceCidrIp: '1.1.1.1',
          }),
          new $Ecs.AuthorizeSecurityGroupRequestPermissions({
            ipProtocol: 'tcp',
            portRange: '1/1',
            sourceGroupId: ids[2],
          }),
        ],
      }),
    );
    const q = async (p: Partial<$Ecs.DescribeSecurityGroupsRequest>) =>
      (
        await c.describeSecurityGroups(
          new $Ecs.DescribeSecurityGroupsRequest({ regionId: 'cn-beijing', ...p }),
        )
      ).body!;
    const all = await q({ pageSize: 50 });
    assert.equal(all.totalCount, 12);
    const g1 = all.securityGroups!.securityGroup!.find((g) => g.securityGroupId === ids[1])!;
    assert.deepEqual([g1.ruleCount, g1.groupToGroupRuleCount, g1.vpcId], [2, 1, vpcB]);
    assert.equal((await q({ vpcId: vpcB })).totalCount, 4);
    assert.equal((await q({ networkType: 'classic' })).totalCount, 8);
    assert.equal((await q({ securityGroupType: 'enterprise' })).totalCount, 1);
    assert.equal((await q({ securityGroupName: 'grp1' })).totalCount, 1);
    assert.equal((await q({ securityGroupName: 'grp1', fuzzyQuery: true })).totalCount, 3);
    assert.equal(
      (await q({ tag: [new $Ecs.DescribeSecurityGroupsRequestTag({ key: 'team', value: 'a' })] }))
        .totalCount,
      4,
    );
    assert.equal((await q({ securityGroupIds: JSON.stringify(ids.slice(0, 3)) })).totalCount, 3);
    const p2 = await q({ pageNumber: 2, pageSize: 5 });
    assert.deepEqual(
      p2.securityGroups!.securityGroup!.map((g) => g.securityGroupId),
      ids.slice(5, 10),
    );
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await q({ maxResults: 5, nextToken: token });
      seen.push(...page.securityGroups!.securityGroup!.map((g) => g.securityGroupId!));
      token = page.nextToken || undefined;
    } while (token);
    assert.deepEqual(seen, ids);
  });
});

describe('--duplicate-rules=ignore', () => {
  let lenient: TestServer;
  before(async () => {
    lenient = await startServer({ args: ['--duplicate-rules', 'ignore'] });
  });
  after(() => lenient?.stop());

  test('authorizing an existing rule is a successful no-op', async () => {
    const c = ecsClient(lenient);
    const id = (await c.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R })))
      .body!.securityGroupId!;
    const req = () =>
      new $Ecs.AuthorizeSecurityGroupRequest({
        regionId: R,
        securityGroupId: id,
        ipProtocol: 'tcp',
        portRange: '22/22',
        sourceCidrIp: '10.0.0.0/8',
      });
    await c.authorizeSecurityGroup(req());
    await c.authorizeSecurityGroup(req());
    const a = await c.describeSecurityGroupAttribute(
      new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: id }),
    );
    assert.equal(a.body!.permissions!.permission!.length, 1);
  });
});

describe('XML responses', () => {
  test('a single Permission is still a list element under Permissions', async () => {
    const id = await create();
    await ingress({
      securityGroupId: id,
      ipProtocol: 'gre',
      portRange: '-1/-1',
      sourceCidrIp: '10.0.0.0/8',
    });
    const r = await signedV1(
      srv,
      {
        Action: 'DescribeSecurityGroupAttribute',
        Version: '2014-05-26',
        RegionId: R,
        SecurityGroupId: id,
      },
      { format: 'XML' },
    );
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /text\/xml/);
    const doc = new XMLParser({ isArray: (name) => name === 'Permission' }).parse(r.text);
    const perms = doc.DescribeSecurityGroupAttributeResponse.Permissions.Permission;
    assert.equal(perms.length, 1);
    assert.equal(perms[0].IpProtocol, 'GRE');
    assert.equal(doc.DescribeSecurityGroupAttributeResponse.Code, undefined);
  });
});

describe('VPCs', () => {
  test('CreateVpc, DescribeVpcs, DeleteVpc', async () => {
    const v = vpcClient(srv, { regionId: 'cn-shenzhen' });
    const id = (
      await v.createVpc(
        new $Vpc.CreateVpcRequest({
          regionId: 'cn-shenzhen',
          cidrBlock: '10.8.0.0/16',
          vpcName: 'lab',
          description: 'test vpc',
        }),
      )
    ).body!.vpcId!;
    assert.match(id, /^vpc-[0-9a-z]{20}$/);
    const d = await v.describeVpcs(new $Vpc.DescribeVpcsRequest({ regionId: 'cn-shenzhen' }));
    const found = d.body!.vpcs!.vpc!.find((x) => x.vpcId === id)!;
    assert.deepEqual(
      [found.cidrBlock, found.vpcName, found.description, found.status],
      ['10.8.0.0/16', 'lab', 'test vpc', 'Available'],
    );
    await v.deleteVpc(new $Vpc.DeleteVpcRequest({ regionId: 'cn-shenzhen', vpcId: id }));
    const after = await v.describeVpcs(new $Vpc.DescribeVpcsRequest({ regionId: 'cn-shenzhen' }));
    assert.equal(
      after.body!.vpcs!.vpc!.some((x) => x.vpcId === id),
      false,
    );
  });
});
