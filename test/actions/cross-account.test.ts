/**
 * Two accounts, A and B (accounts file), through the official v3 SDK. B's rules may name A's
 * groups by `…GroupOwnerAccount` (A's name) or `…GroupOwnerId` (A's uid); A sees those
 * references and cannot delete a referenced group; B can never read or change A's groups.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import { type EcsClient, ecsClient, expectApiError } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { accountsFile, REGION, type TestAccount } from './support.js';

const A: TestAccount = {
  uid: '1000000000000011',
  name: 'alice@example.com',
  accessKeyId: 'ak-alice',
  secret: 'sk-alice',
};
const B: TestAccount = {
  uid: '1000000000000022',
  name: 'bob@example.com',
  accessKeyId: 'ak-bob',
  secret: 'sk-bob',
};

let srv: TestServer;
let a: EcsClient;
let b: EcsClient;
/** A's groups (classic: cross-account references need classic groups) and a rule of ga. */
let ga: string;
let ga2: string;
let gaRule: string;
/** B's group. */
let gb: string;

async function createGroup(c: EcsClient, name: string): Promise<string> {
  const r = await c.createSecurityGroup(
    new $Ecs.CreateSecurityGroupRequest({ regionId: REGION, securityGroupName: name }),
  );
  return r.body!.securityGroupId!;
}

async function rules(c: EcsClient, groupId: string) {
  const r = await c.describeSecurityGroupAttribute(
    new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: REGION, securityGroupId: groupId }),
  );
  return r.body!.permissions?.permission ?? [];
}

const ingress = (fields: Partial<$Ecs.AuthorizeSecurityGroupRequest>) =>
  new $Ecs.AuthorizeSecurityGroupRequest({
    regionId: REGION,
    ipProtocol: 'tcp',
    nicType: 'intranet',
    policy: 'accept',
    ...fields,
  });

const egress = (fields: Partial<$Ecs.AuthorizeSecurityGroupEgressRequest>) =>
  new $Ecs.AuthorizeSecurityGroupEgressRequest({
    regionId: REGION,
    ipProtocol: 'tcp',
    nicType: 'intranet',
    policy: 'accept',
    ...fields,
  });

before(async () => {
  srv = await startServer({ accounts: accountsFile(A, B) });
  a = ecsClient(srv, A);
  b = ecsClient(srv, B);
  ga = await createGroup(a, 'alice-web');
  ga2 = await createGroup(a, 'alice-db');
  gb = await createGroup(b, 'bob-app');
  await a.authorizeSecurityGroup(
    ingress({ securityGroupId: ga, portRange: '22/22', sourceCidrIp: '192.168.0.0/16' }),
  );
  gaRule = (await rules(a, ga))[0]!.securityGroupRuleId!;
});
after(() => srv?.stop());

describe('B names A groups in its rules', () => {
  test('by SourceGroupOwnerAccount and SourceGroupOwnerId (ingress), Dest* (egress)', async () => {
    await b.authorizeSecurityGroup(
      ingress({
        securityGroupId: gb,
        portRange: '22/22',
        sourceGroupId: ga,
        sourceGroupOwnerAccount: A.name,
      }),
    );
    await b.authorizeSecurityGroup(
      ingress({
        securityGroupId: gb,
        portRange: '80/80',
        sourceGroupId: ga,
        sourceGroupOwnerId: Number(A.uid),
      }),
    );
    await b.authorizeSecurityGroupEgress(
      egress({
        securityGroupId: gb,
        portRange: '443/443',
        destGroupId: ga,
        destGroupOwnerAccount: A.name,
      }),
    );
    await b.authorizeSecurityGroupEgress(
      egress({
        securityGroupId: gb,
        ipProtocol: 'udp',
        portRange: '53/53',
        destGroupId: ga2,
        destGroupOwnerId: Number(A.uid),
      }),
    );

    const got = await rules(b, gb);
    assert.equal(got.length, 4);
    const byPort = new Map(got.map((p) => [p.portRange, p]));
    for (const port of ['22/22', '80/80']) {
      const p = byPort.get(port)!;
      assert.equal(p.direction, 'ingress');
      assert.equal(p.sourceGroupId, ga);
      assert.equal(p.sourceGroupOwnerAccount, A.name, `owner account of ${port}`);
      // a grant does not entitle B to the name of A's group
      assert.equal(p.sourceGroupName, '', `name of A's group hidden from B (${port})`);
      assert.equal(p.nicType, 'intranet');
      assert.equal(p.destGroupId, '');
    }
    const e1 = byPort.get('443/443')!;
    assert.equal(e1.direction, 'egress');
    assert.equal(e1.destGroupId, ga);
    assert.equal(e1.destGroupOwnerAccount, A.name);
    assert.equal(e1.destGroupName, '');
    const e2 = byPort.get('53/53')!;
    assert.equal(e2.ipProtocol, 'UDP');
    assert.equal(e2.destGroupId, ga2);
    assert.equal(e2.destGroupOwnerAccount, A.name);
    assert.equal(e2.sourceGroupId, '');

    const groups = await b.describeSecurityGroups(
      new $Ecs.DescribeSecurityGroupsRequest({ regionId: REGION, securityGroupId: gb }),
    );
    const view = groups.body!.securityGroups!.securityGroup![0]!;
    assert.equal(view.ruleCount, 4);
    assert.equal(view.groupToGroupRuleCount, 4);
  });

  test('the owner account and the owner id name the same rule: duplicate', async () => {
    await expectApiError(
      b.authorizeSecurityGroup(
        ingress({
          securityGroupId: gb,
          portRange: '22/22',
          sourceGroupId: ga,
          sourceGroupOwnerId: Number(A.uid),
        }),
      ),
      'InvalidPermission.Duplicate',
      400,
    );
    assert.equal((await rules(b, gb)).length, 4);
  });

  test("A's DescribeSecurityGroupReferences shows B's group with B's uid", async () => {
    const r = await a.describeSecurityGroupReferences(
      new $Ecs.DescribeSecurityGroupReferencesRequest({
        regionId: REGION,
        securityGroupId: [ga, ga2],
      }),
    );
    const refs = r.body!.securityGroupReferences!.securityGroupReference!;
    const byId = new Map(refs.map((x) => [x.securityGroupId, x]));
    assert.deepEqual([...byId.keys()].sort(), [ga, ga2].sort());
    for (const id of [ga, ga2]) {
      const list = byId.get(id)!.referencingSecurityGroups!.referencingSecurityGroup!;
      assert.deepEqual(
        list.map((x) => ({ aliUid: x.aliUid, securityGroupId: x.securityGroupId })),
        [{ aliUid: B.uid, securityGroupId: gb }],
        `references of ${id}`,
      );
    }
  });

  test('A cannot delete its group while B references it: DependencyViolation 403', async () => {
    for (const id of [ga, ga2]) {
      await expectApiError(
        a.deleteSecurityGroup(
          new $Ecs.DeleteSecurityGroupRequest({ regionId: REGION, securityGroupId: id }),
        ),
        'DependencyViolation',
        403,
      );
    }
    assert.equal((await rules(a, ga)).length, 1, "A's group and rule are still there");
  });
});

describe("B can never read or change A's groups", () => {
  const NF = 'InvalidSecurityGroupId.NotFound';
  const calls: [string, () => Promise<unknown>][] = [
    [
      'DescribeSecurityGroupAttribute',
      () =>
        b.describeSecurityGroupAttribute(
          new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: REGION, securityGroupId: ga }),
        ),
    ],
    [
      'AuthorizeSecurityGroup',
      () =>
        b.authorizeSecurityGroup(
          ingress({ securityGroupId: ga, portRange: '1/65535', sourceCidrIp: '0.0.0.0/0' }),
        ),
    ],
    [
      'AuthorizeSecurityGroup naming B as the source',
      () =>
        b.authorizeSecurityGroup(
          ingress({ securityGroupId: ga, portRange: '1/65535', sourceGroupId: gb }),
        ),
    ],
    [
      'AuthorizeSecurityGroupEgress',
      () =>
        b.authorizeSecurityGroupEgress(
          egress({ securityGroupId: ga, portRange: '1/65535', destCidrIp: '0.0.0.0/0' }),
        ),
    ],
    [
      'RevokeSecurityGroup by definition',
      () =>
        b.revokeSecurityGroup(
          new $Ecs.RevokeSecurityGroupRequest({
            regionId: REGION,
            securityGroupId: ga,
            ipProtocol: 'tcp',
            portRange: '22/22',
            sourceCidrIp: '192.168.0.0/16',
            nicType: 'intranet',
          }),
        ),
    ],
    [
      'RevokeSecurityGroup by rule id',
      () =>
        b.revokeSecurityGroup(
          new $Ecs.RevokeSecurityGroupRequest({
            regionId: REGION,
            securityGroupId: ga,
            securityGroupRuleId: [gaRule],
          }),
        ),
    ],
    [
      'RevokeSecurityGroupEgress',
      () =>
        b.revokeSecurityGroupEgress(
          new $Ecs.RevokeSecurityGroupEgressRequest({
            regionId: REGION,
            securityGroupId: ga,
            ipProtocol: 'tcp',
            portRange: '22/22',
            destCidrIp: '192.168.0.0/16',
          }),
        ),
    ],
    [
      'ModifySecurityGroupRule',
      () =>
        b.modifySecurityGroupRule(
          new $Ecs.ModifySecurityGroupRuleRequest({
            regionId: REGION,
            securityGroupId: ga,
            securityGroupRuleId: gaRule,
            description: 'hijacked',
          }),
        ),
    ],
    [
      'ModifySecurityGroupEgressRule',
      () =>
        b.modifySecurityGroupEgressRule(
          new $Ecs.ModifySecurityGroupEgressRuleRequest({
            regionId: REGION,
            securityGroupId: ga,
            securityGroupRuleId: gaRule,
            description: 'hijacked',
          }),
        ),
    ],
    [
      'ModifySecurityGroupAttribute',
      () =>
        b.modifySecurityGroupAttribute(
          new $Ecs.ModifySecurityGroupAttributeRequest({
            regionId: REGION,
            securityGroupId: ga,
            securityGroupName: 'hijacked',
          }),
        ),
    ],
    [
      'ModifySecurityGroupPolicy',
      () =>
        b.modifySecurityGroupPolicy(
          new $Ecs.ModifySecurityGroupPolicyRequest({
            regionId: REGION,
            securityGroupId: ga,
            innerAccessPolicy: 'Drop',
          }),
        ),
    ],
    [
      'DescribeSecurityGroupReferences',
      () =>
        b.describeSecurityGroupReferences(
          new $Ecs.DescribeSecurityGroupReferencesRequest({
            regionId: REGION,
            securityGroupId: [ga],
          }),
        ),
    ],
    [
      'DeleteSecurityGroup',
      () =>
        b.deleteSecurityGroup(
          new $Ecs.DeleteSecurityGroupRequest({ regionId: REGION, securityGroupId: ga }),
        ),
    ],
  ];
  for (const [name, call] of calls) {
    test(`${name} on A's group with B's keys → ${NF} 404`, async () => {
      await expectApiError(call(), NF, 404);
    });
  }

  test("A's group is untouched", async () => {
    const got = await rules(a, ga);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.securityGroupRuleId, gaRule);
    assert.equal(got[0]!.description, '');
    const r = await a.describeSecurityGroupAttribute(
      new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: REGION, securityGroupId: ga }),
    );
    assert.equal(r.body!.securityGroupName, 'alice-web');
    assert.equal(r.body!.innerAccessPolicy, 'Accept');
  });

  test("A's rule id does not name a rule of B's group either", async () => {
    await expectApiError(
      b.modifySecurityGroupRule(
        new $Ecs.ModifySecurityGroupRuleRequest({
          regionId: REGION,
          securityGroupId: gb,
          securityGroupRuleId: gaRule,
          description: 'hijacked',
        }),
      ),
      'InvalidParam.SecurityGroupRuleId',
    );
    assert.equal((await rules(a, ga))[0]!.description, '');
  });

  test("DescribeSecurityGroups by B does not list A's groups", async () => {
    const all = await b.describeSecurityGroups(
      new $Ecs.DescribeSecurityGroupsRequest({ regionId: REGION, pageSize: 50 }),
    );
    const ids = all.body!.securityGroups!.securityGroup!.map((g) => g.securityGroupId);
    assert.deepEqual(ids, [gb]);
    assert.equal(all.body!.totalCount, 1);
    for (const req of [
      { securityGroupId: ga },
      { securityGroupIds: JSON.stringify([ga, ga2]) },
      { securityGroupName: 'alice-web' },
    ]) {
      const r = await b.describeSecurityGroups(
        new $Ecs.DescribeSecurityGroupsRequest({ regionId: REGION, ...req }),
      );
      assert.equal(r.body!.totalCount, 0, JSON.stringify(req));
      assert.equal(r.body!.securityGroups?.securityGroup?.length ?? 0, 0);
    }
    // And the other way round.
    const ofA = await a.describeSecurityGroups(
      new $Ecs.DescribeSecurityGroupsRequest({ regionId: REGION, securityGroupId: gb }),
    );
    assert.equal(ofA.body!.totalCount, 0);
  });
});

describe('naming another account group needs its owner', () => {
  test('ingress without an owner parameter → InvalidSourceGroupId.NotFound 404', async () => {
    await expectApiError(
      b.authorizeSecurityGroup(
        ingress({ securityGroupId: gb, portRange: '8080/8080', sourceGroupId: ga }),
      ),
      'InvalidSourceGroupId.NotFound',
      404,
    );
  });
  test('egress without an owner parameter → InvalidDestGroupId.NotFound 404', async () => {
    await expectApiError(
      b.authorizeSecurityGroupEgress(
        egress({ securityGroupId: gb, portRange: '8080/8080', destGroupId: ga }),
      ),
      'InvalidDestGroupId.NotFound',
      404,
    );
  });
  test('a wrong owner (B itself, an unknown account, an unknown uid) → NotFound 404', async () => {
    for (const owner of [
      { sourceGroupOwnerId: Number(B.uid) },
      { sourceGroupOwnerAccount: B.name },
      { sourceGroupOwnerAccount: 'nobody@example.com' },
      { sourceGroupOwnerId: 1000000000000099 },
    ]) {
      await expectApiError(
        b.authorizeSecurityGroup(
          ingress({ securityGroupId: gb, portRange: '8080/8080', sourceGroupId: ga, ...owner }),
        ),
        'InvalidSourceGroupId.NotFound',
        404,
      );
    }
    assert.equal((await rules(b, gb)).length, 4, 'nothing added');
  });
});

describe('after B revokes, A can delete', () => {
  test('revoke by definition with the other owner form, and by rule id', async () => {
    // Created with SourceGroupOwnerAccount, revoked with SourceGroupOwnerId: the same rule.
    await b.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: REGION,
        securityGroupId: gb,
        ipProtocol: 'tcp',
        portRange: '22/22',
        nicType: 'intranet',
        policy: 'accept',
        sourceGroupId: ga,
        sourceGroupOwnerId: Number(A.uid),
      }),
    );
    // Created with SourceGroupOwnerId, revoked with SourceGroupOwnerAccount.
    await b.revokeSecurityGroup(
      new $Ecs.RevokeSecurityGroupRequest({
        regionId: REGION,
        securityGroupId: gb,
        ipProtocol: 'tcp',
        portRange: '80/80',
        nicType: 'intranet',
        policy: 'accept',
        sourceGroupId: ga,
        sourceGroupOwnerAccount: A.name,
      }),
    );
    const left = await rules(b, gb);
    assert.deepEqual(left.map((p) => p.direction).sort(), ['egress', 'egress']);

    // ga is still named by the 443 egress rule.
    await expectApiError(
      a.deleteSecurityGroup(
        new $Ecs.DeleteSecurityGroupRequest({ regionId: REGION, securityGroupId: ga }),
      ),
      'DependencyViolation',
      403,
    );
    const to443 = left.find((p) => p.portRange === '443/443')!;
    await b.revokeSecurityGroupEgress(
      new $Ecs.RevokeSecurityGroupEgressRequest({
        regionId: REGION,
        securityGroupId: gb,
        securityGroupRuleId: [to443.securityGroupRuleId!],
      }),
    );
    const refs = await a.describeSecurityGroupReferences(
      new $Ecs.DescribeSecurityGroupReferencesRequest({ regionId: REGION, securityGroupId: [ga] }),
    );
    const list =
      refs.body!.securityGroupReferences!.securityGroupReference![0]!.referencingSecurityGroups
        ?.referencingSecurityGroup ?? [];
    assert.equal(list.length, 0);
    await a.deleteSecurityGroup(
      new $Ecs.DeleteSecurityGroupRequest({ regionId: REGION, securityGroupId: ga }),
    );
    // ga2 is still referenced.
    await expectApiError(
      a.deleteSecurityGroup(
        new $Ecs.DeleteSecurityGroupRequest({ regionId: REGION, securityGroupId: ga2 }),
      ),
      'DependencyViolation',
      403,
    );
  });
});
