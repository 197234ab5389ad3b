/**
 * The endpoints security groups protect: vSwitches (VPC 2016-04-28) and network interfaces
 * with their group memberships (ECS 2014-05-26), through the official SDKs against the real
 * server. Every error the endpoint actions can produce (code and HTTP status), then the
 * success paths: address allocation, free-address counts, DescribeNetworkInterfaces
 * filters, both paging styles and the response fields.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import * as $Vpc from '@alicloud/vpc20160428';
import {
  type EcsClient,
  ecsClient,
  expectApiError,
  type VpcClient,
  vpcClient,
} from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

const R = 'cn-hangzhou';
const ZONE = 'cn-hangzhou-b';
let srv: TestServer;
let ecs: EcsClient;
let vpc: VpcClient;

/** The main VPC 10.0.0.0/16 and another VPC 10.1.0.0/16. */
let vpcId = '';
let otherVpcId = '';
/** 10.0.1.0/24 in the main VPC, holding the error-test interfaces. */
let vswA = '';
/** 10.1.1.0/24 in the other VPC. */
let vswOther = '';
/** Normal groups of the main VPC (n[0..5]), an enterprise one, a classic one, another VPC's. */
const n: string[] = [];
let enterprise = '';
let enterprise2 = '';
let classic = '';
let otherVpcGroup = '';
/** An interface of vswA in n[0] only, with 10.0.1.10. */
let eni = '';

async function createVpc(cidrBlock: string): Promise<string> {
  const r = await vpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: R, cidrBlock }));
  return r.body!.vpcId!;
}

const createVSwitch = (p: Partial<$Vpc.CreateVSwitchRequest>) =>
  vpc.createVSwitch(new $Vpc.CreateVSwitchRequest({ regionId: R, zoneId: ZONE, vpcId, ...p }));

async function vswitch(cidrBlock: string, inVpc = vpcId): Promise<string> {
  const r = await createVSwitch({ cidrBlock, vpcId: inVpc });
  assert.match(r.body!.vSwitchId!, /^vsw-[0-9a-z]+$/);
  return r.body!.vSwitchId!;
}

async function group(extra: Partial<$Ecs.CreateSecurityGroupRequest> = {}): Promise<string> {
  const r = await ecs.createSecurityGroup(
    new $Ecs.CreateSecurityGroupRequest({ regionId: R, ...extra }),
  );
  return r.body!.securityGroupId!;
}

const createEni = (p: Partial<$Ecs.CreateNetworkInterfaceRequest>) =>
  ecs.createNetworkInterface(
    new $Ecs.CreateNetworkInterfaceRequest({ regionId: R, vSwitchId: vswA, ...p }),
  );

async function eniIn(
  vSwitchId: string,
  securityGroupIds: string[],
  primaryIpAddress?: string,
): Promise<$Ecs.CreateNetworkInterfaceResponseBody> {
  const r = await createEni({ vSwitchId, securityGroupIds, primaryIpAddress });
  return r.body!;
}

const join = (networkInterfaceId: string, securityGroupId: string) =>
  ecs.joinSecurityGroup(
    new $Ecs.JoinSecurityGroupRequest({ regionId: R, networkInterfaceId, securityGroupId }),
  );
const leave = (networkInterfaceId: string, securityGroupId: string) =>
  ecs.leaveSecurityGroup(
    new $Ecs.LeaveSecurityGroupRequest({ regionId: R, networkInterfaceId, securityGroupId }),
  );
const deleteEni = (networkInterfaceId: string) =>
  ecs.deleteNetworkInterface(
    new $Ecs.DeleteNetworkInterfaceRequest({ regionId: R, networkInterfaceId }),
  );
const deleteGroup = (securityGroupId: string) =>
  ecs.deleteSecurityGroup(new $Ecs.DeleteSecurityGroupRequest({ regionId: R, securityGroupId }));
const deleteVSwitch = (vSwitchId: string) =>
  vpc.deleteVSwitch(new $Vpc.DeleteVSwitchRequest({ regionId: R, vSwitchId }));

async function describeEnis(p: Partial<$Ecs.DescribeNetworkInterfacesRequest>) {
  const r = await ecs.describeNetworkInterfaces(
    new $Ecs.DescribeNetworkInterfacesRequest({ regionId: R, ...p }),
  );
  return r.body!;
}
const idsOf = (b: $Ecs.DescribeNetworkInterfacesResponseBody) =>
  (b.networkInterfaceSets?.networkInterfaceSet ?? []).map((e) => e.networkInterfaceId!);

async function membership(id: string): Promise<string[]> {
  const b = await describeEnis({ networkInterfaceId: [id] });
  const set = b.networkInterfaceSets?.networkInterfaceSet ?? [];
  assert.equal(set.length, 1, JSON.stringify(b));
  return [...(set[0]!.securityGroupIds?.securityGroupId ?? [])].sort();
}

async function vswitchView(id: string) {
  const r = await vpc.describeVSwitches(
    new $Vpc.DescribeVSwitchesRequest({ regionId: R, vSwitchId: id }),
  );
  const list = r.body!.vSwitches?.vSwitch ?? [];
  assert.equal(list.length, 1, JSON.stringify(r.body));
  return list[0]!;
}

before(async () => {
  srv = await startServer();
  ecs = ecsClient(srv);
  vpc = vpcClient(srv);
  vpcId = await createVpc('10.0.0.0/16');
  otherVpcId = await createVpc('10.1.0.0/16');
  vswA = await vswitch('10.0.1.0/24');
  vswOther = await vswitch('10.1.1.0/24', otherVpcId);
  for (let i = 0; i < 6; i++) n.push(await group({ vpcId }));
  enterprise = await group({ vpcId, securityGroupType: 'enterprise' });
  enterprise2 = await group({ vpcId, securityGroupType: 'enterprise' });
  classic = await group();
  otherVpcGroup = await group({ vpcId: otherVpcId });
  eni = (await eniIn(vswA, [n[0]!], '10.0.1.10')).networkInterfaceId!;
});

after(() => srv?.stop());

type Case = [string, () => Promise<unknown>, string, number];

describe('CreateVSwitch / DeleteVSwitch errors', () => {
  const cases: Case[] = [
    [
      'unknown VPC',
      () => createVSwitch({ vpcId: 'vpc-nope', cidrBlock: '10.0.9.0/24' }),
      'InvalidVpcId.NotFound',
      404,
    ],
    [
      'zone of another region',
      () => createVSwitch({ zoneId: 'cn-shanghai-b', cidrBlock: '10.0.9.0/24' }),
      'InvalidZoneId.NotFound',
      404,
    ],
    [
      'zone that does not exist',
      () => createVSwitch({ zoneId: 'cn-hangzhou-z', cidrBlock: '10.0.9.0/24' }),
      'InvalidZoneId.NotFound',
      404,
    ],
    [
      'CIDR outside the VPC',
      () => createVSwitch({ cidrBlock: '10.2.0.0/24' }),
      'InvalidCidrBlock.NotInVpc',
      400,
    ],
    [
      'CIDR of the other VPC',
      () => createVSwitch({ cidrBlock: '10.1.2.0/24' }),
      'InvalidCidrBlock.NotInVpc',
      400,
    ],
    [
      'CIDR equal to another vSwitch',
      () => createVSwitch({ cidrBlock: '10.0.1.0/24' }),
      'InvalidCidrBlock.Overlapped',
      400,
    ],
    [
      'CIDR inside another vSwitch',
      () => createVSwitch({ cidrBlock: '10.0.1.128/25' }),
      'InvalidCidrBlock.Overlapped',
      400,
    ],
    [
      'CIDR containing another vSwitch',
      () => createVSwitch({ cidrBlock: '10.0.0.0/23' }),
      'InvalidCidrBlock.Overlapped',
      400,
    ],
    [
      'CIDR not an address',
      () => createVSwitch({ cidrBlock: 'ten.zero/24' }),
      'InvalidCidrBlock.Malformed',
      400,
    ],
    [
      'CIDR without a prefix',
      () => createVSwitch({ cidrBlock: '10.0.9.0' }),
      'InvalidCidrBlock.Malformed',
      400,
    ],
    [
      'prefix /30 (longer than /29)',
      () => createVSwitch({ cidrBlock: '10.0.9.0/30' }),
      'InvalidCidrBlock.Malformed',
      400,
    ],
    [
      'prefix /15 (shorter than /16)',
      () => createVSwitch({ cidrBlock: '10.0.0.0/15', vpcId: 'vpc-nope' }),
      'InvalidCidrBlock.Malformed',
      400,
    ],
    [
      'prefix /33',
      () => createVSwitch({ cidrBlock: '10.0.9.0/33' }),
      'InvalidCidrBlock.Malformed',
      400,
    ],
    [
      'DeleteVSwitch of an unknown vSwitch',
      () => deleteVSwitch('vsw-nope'),
      'InvalidVSwitchId.NotFound',
      404,
    ],
    [
      'DeleteVSwitch while it holds an interface',
      () => deleteVSwitch(vswA),
      'DependencyViolation.NetworkInterface',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      const info = await expectApiError(call(), code, status);
      assert.equal(info.status, status);
    });
  }

  test('no vSwitch was created by the failed calls; a vSwitch with an interface survives', async () => {
    const r = await vpc.describeVSwitches(
      new $Vpc.DescribeVSwitchesRequest({ regionId: R, vpcId }),
    );
    const cidrs = (r.body!.vSwitches?.vSwitch ?? []).map((v) => v.cidrBlock);
    assert.ok(cidrs.includes('10.0.1.0/24'), JSON.stringify(cidrs));
    for (const c of ['10.0.9.0/24', '10.0.1.128/25', '10.0.0.0/23', '10.2.0.0/24']) {
      assert.ok(!cidrs.includes(c), `${c} must not exist: ${JSON.stringify(cidrs)}`);
    }
  });

  test('DeleteVSwitch succeeds once its last interface is deleted, then → NotFound 404', async () => {
    const v = await vswitch('10.0.7.0/24');
    const e = (await eniIn(v, [n[1]!])).networkInterfaceId!;
    await expectApiError(deleteVSwitch(v), 'DependencyViolation.NetworkInterface', 400);
    await deleteEni(e);
    await deleteVSwitch(v);
    await expectApiError(deleteVSwitch(v), 'InvalidVSwitchId.NotFound', 404);
    // its block is free again
    const again = await vswitch('10.0.7.0/24');
    await deleteVSwitch(again);
  });
});

describe('CreateNetworkInterface errors', () => {
  const cases: Case[] = [
    [
      'no security group',
      () => createEni({ primaryIpAddress: '10.0.1.20' }),
      'MissingParameter',
      400,
    ],
    [
      'unknown vSwitch',
      () => createEni({ vSwitchId: 'vsw-nope', securityGroupIds: [n[0]!] }),
      'InvalidVSwitchId.NotFound',
      404,
    ],
    [
      'unknown security group',
      () => createEni({ securityGroupIds: ['sg-nope'] }),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'PrimaryIpAddress taken',
      () => createEni({ securityGroupIds: [n[0]!], primaryIpAddress: '10.0.1.10' }),
      'InvalidPrivateIpAddress.Duplicated',
      400,
    ],
    [
      'PrimaryIpAddress outside the vSwitch',
      () => createEni({ securityGroupIds: [n[0]!], primaryIpAddress: '10.0.2.10' }),
      'InvalidPrivateIpAddress.Mismatch',
      400,
    ],
    [
      'PrimaryIpAddress = network address (reserved)',
      () => createEni({ securityGroupIds: [n[0]!], primaryIpAddress: '10.0.1.0' }),
      'InvalidPrivateIpAddress.Mismatch',
      400,
    ],
    ...['10.0.1.253', '10.0.1.254', '10.0.1.255'].map(
      (ip): Case => [
        `PrimaryIpAddress ${ip} (one of the last three, reserved)`,
        () => createEni({ securityGroupIds: [n[0]!], primaryIpAddress: ip }),
        'InvalidPrivateIpAddress.Mismatch',
        400,
      ],
    ),
    ...['10.0.1', '10.0.1.300', 'localhost', '10.0.1.20/32'].map(
      (ip): Case => [
        `PrimaryIpAddress ${ip} (malformed)`,
        () => createEni({ securityGroupIds: [n[0]!], primaryIpAddress: ip }),
        'InvalidPrivateIpAddress.Malformed',
        400,
      ],
    ),
    [
      '6 security groups',
      () => createEni({ securityGroupIds: [...n] }),
      'InstanceSecurityGroupLimitExceeded',
      403,
    ],
    [
      'a group of another VPC',
      () => createEni({ securityGroupIds: [n[0]!, otherVpcGroup] }),
      'InvalidSecurityGroupId.NotInSameVpc',
      400,
    ],
    [
      'a classic group',
      () => createEni({ securityGroupIds: [classic] }),
      'InvalidSecurityGroupId.NotInSameVpc',
      400,
    ],
    [
      'normal + enterprise',
      () => createEni({ securityGroupIds: [n[0]!, enterprise] }),
      'InvalidSecurityGroupType.Mixed',
      400,
    ],
    [
      'SecurityGroupId and SecurityGroupIds.N together',
      () => createEni({ securityGroupId: n[0]!, securityGroupIds: [n[1]!] }),
      'InvalidParameter.Conflict',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      const info = await expectApiError(call(), code, status);
      assert.equal(info.status, status);
    });
  }

  test('5 groups are allowed; the single SecurityGroupId form works too', async () => {
    const five = await eniIn(vswA, n.slice(0, 5));
    assert.deepEqual([...five.securityGroupIds!.securityGroupId!].sort(), n.slice(0, 5).sort());
    const one = (await createEni({ securityGroupId: enterprise, primaryIpAddress: '10.0.1.200' }))
      .body!;
    assert.deepEqual(one.securityGroupIds!.securityGroupId, [enterprise]);
    assert.equal(one.privateIpAddress, '10.0.1.200');
    await deleteEni(five.networkInterfaceId!);
    await deleteEni(one.networkInterfaceId!);
  });

  test('an exhausted /29 vSwitch → InvalidVSwitchId.IpNotEnough 403 (4 usable addresses)', async () => {
    const small = await vswitch('10.0.3.0/29');
    assert.equal((await vswitchView(small)).availableIpAddressCount, 4);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push((await eniIn(small, [n[2]!])).privateIpAddress!);
    assert.deepEqual(got, ['10.0.3.1', '10.0.3.2', '10.0.3.3', '10.0.3.4']);
    assert.equal((await vswitchView(small)).availableIpAddressCount, 0);
    const info = await expectApiError(
      createEni({ vSwitchId: small, securityGroupIds: [n[2]!] }),
      'InvalidVSwitchId.IpNotEnough',
      403,
    );
    assert.equal(info.status, 403);
    // an explicit address is refused as well: every usable one is taken, the rest reserved
    await expectApiError(
      createEni({ vSwitchId: small, securityGroupIds: [n[2]!], primaryIpAddress: '10.0.3.5' }),
      'InvalidPrivateIpAddress.Mismatch',
      400,
    );
    await expectApiError(
      createEni({ vSwitchId: small, securityGroupIds: [n[2]!], primaryIpAddress: '10.0.3.2' }),
      'InvalidPrivateIpAddress.Duplicated',
      400,
    );
  });

  test('the failed calls created no interface', async () => {
    const b = await describeEnis({ vSwitchId: vswA });
    assert.deepEqual(idsOf(b), [eni]);
    assert.equal(b.totalCount, 1);
  });
});

describe('JoinSecurityGroup / LeaveSecurityGroup errors', () => {
  let full = '';
  let single = '';
  let ent = '';
  before(async () => {
    full = (await eniIn(vswA, n.slice(0, 5))).networkInterfaceId!;
    single = (await eniIn(vswA, [n[0]!])).networkInterfaceId!;
    ent = (await eniIn(vswA, [enterprise])).networkInterfaceId!;
  });

  const cases: Case[] = [
    ['joining a 6th group', () => join(full, n[5]!), 'InstanceSecurityGroupLimitExceeded', 403],
    ['leaving the last group', () => leave(single, n[0]!), 'InstanceLastSecurityGroup', 403],
    ['leaving a group it is not in', () => leave(single, n[1]!), 'InstanceNotInSecurityGroup', 400],
    ['joining a group twice', () => join(single, n[0]!), 'InvalidInstanceId.AlreadyExists', 400],
    [
      'joining a group of another VPC',
      () => join(single, otherVpcGroup),
      'InvalidSecurityGroupId.NotInSameVpc',
      400,
    ],
    [
      'joining a classic group',
      () => join(single, classic),
      'InvalidSecurityGroupId.NotInSameVpc',
      400,
    ],
    [
      'joining an enterprise group from a normal one',
      () => join(single, enterprise),
      'InvalidSecurityGroupType.Mixed',
      400,
    ],
    [
      'joining a normal group from an enterprise one',
      () => join(ent, n[1]!),
      'InvalidSecurityGroupType.Mixed',
      400,
    ],
    ['joining: unknown interface', () => join('eni-nope', n[0]!), 'InvalidEniId.NotFound', 404],
    ['leaving: unknown interface', () => leave('eni-nope', n[0]!), 'InvalidEniId.NotFound', 404],
    [
      'joining: unknown group',
      () => join(single, 'sg-nope'),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'joining with InstanceId instead of NetworkInterfaceId',
      () =>
        ecs.joinSecurityGroup(
          new $Ecs.JoinSecurityGroupRequest({
            regionId: R,
            instanceId: 'i-bp1abc',
            securityGroupId: n[1]!,
          }),
        ),
      'InvalidInstanceId.NotFound',
      404,
    ],
    [
      'leaving with InstanceId instead of NetworkInterfaceId',
      () =>
        ecs.leaveSecurityGroup(
          new $Ecs.LeaveSecurityGroupRequest({
            regionId: R,
            instanceId: 'i-bp1abc',
            securityGroupId: n[0]!,
          }),
        ),
      'InvalidInstanceId.NotFound',
      404,
    ],
    [
      'neither InstanceId nor NetworkInterfaceId',
      () =>
        ecs.joinSecurityGroup(
          new $Ecs.JoinSecurityGroupRequest({ regionId: R, securityGroupId: n[1]! }),
        ),
      'MissingParameter',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      const info = await expectApiError(call(), code, status);
      assert.equal(info.status, status);
    });
  }

  test('the memberships are unchanged by the failed calls', async () => {
    assert.deepEqual(await membership(full), n.slice(0, 5).sort());
    assert.deepEqual(await membership(single), [n[0]!]);
    assert.deepEqual(await membership(ent), [enterprise]);
  });

  test('join then leave succeed and show in DescribeNetworkInterfaces', async () => {
    await join(single, n[3]!);
    assert.deepEqual(await membership(single), [n[0]!, n[3]!].sort());
    await leave(single, n[0]!);
    assert.deepEqual(await membership(single), [n[3]!]);
    await join(ent, enterprise2);
    assert.deepEqual(await membership(ent), [enterprise, enterprise2].sort());
    await leave(ent, enterprise2);
    // leaving a 5-group interface makes room for another
    await leave(full, n[4]!);
    await join(full, n[5]!);
    assert.deepEqual(await membership(full), [...n.slice(0, 4), n[5]!].sort());
  });
});

describe('DeleteSecurityGroup / DeleteNetworkInterface', () => {
  test('a group still holding interfaces → DependencyViolation 403; after DeleteNetworkInterface it deletes', async () => {
    const g = await group({ vpcId });
    const a = (await eniIn(vswA, [g])).networkInterfaceId!;
    const b = (await eniIn(vswA, [n[1]!])).networkInterfaceId!;
    await join(b, g);
    let info = await expectApiError(deleteGroup(g), 'DependencyViolation', 403);
    assert.equal(info.status, 403);
    await deleteEni(a);
    info = await expectApiError(deleteGroup(g), 'DependencyViolation', 403);
    assert.equal(info.status, 403);
    await leave(b, g);
    await deleteGroup(g);
    await expectApiError(deleteGroup(g), 'InvalidSecurityGroupId.NotFound', 404);
    await deleteEni(b);
  });

  test('DeleteNetworkInterface of an unknown or deleted interface → InvalidEniId.NotFound 404', async () => {
    const e = (await eniIn(vswA, [n[1]!])).networkInterfaceId!;
    await deleteEni(e);
    for (const id of [e, 'eni-nope']) {
      const info = await expectApiError(deleteEni(id), 'InvalidEniId.NotFound', 404);
      assert.equal(info.status, 404);
    }
    assert.deepEqual(idsOf(await describeEnis({ networkInterfaceId: [e] })), []);
  });

  test('an interface of another region is not found', async () => {
    const sh = ecsClient(srv, { regionId: 'cn-shanghai' });
    await expectApiError(
      sh.deleteNetworkInterface(
        new $Ecs.DeleteNetworkInterfaceRequest({
          regionId: 'cn-shanghai',
          networkInterfaceId: eni,
        }),
      ),
      'InvalidEniId.NotFound',
      404,
    );
  });
});

describe('success paths', () => {
  /** 10.0.4.0/24 with 12 interfaces, 10.0.5.0/24 with 2; groups p, q. */
  let vswP = '';
  let vswQ = '';
  let p = '';
  let q = '';
  const inP: $Ecs.CreateNetworkInterfaceResponseBody[] = [];
  const inQ: $Ecs.CreateNetworkInterfaceResponseBody[] = [];

  before(async () => {
    vswP = await vswitch('10.0.4.0/24');
    vswQ = await vswitch('10.0.5.0/24');
    p = await group({ vpcId });
    q = await group({ vpcId });
    for (let i = 0; i < 12; i++) inP.push(await eniIn(vswP, i % 2 === 0 ? [p] : [p, q]));
    inQ.push(await eniIn(vswQ, [q], '10.0.5.77'));
    inQ.push(await eniIn(vswQ, [q]));
  });

  test('automatic addresses: network+1 first, then upwards, skipping taken ones', () => {
    assert.deepEqual(
      inP.map((e) => e.privateIpAddress),
      Array.from({ length: 12 }, (_, i) => `10.0.4.${i + 1}`),
    );
    assert.equal(inQ[0]!.privateIpAddress, '10.0.5.77');
    assert.equal(inQ[1]!.privateIpAddress, '10.0.5.1');
  });

  test('a freed address is handed out again', async () => {
    const v = await vswitch('10.0.6.0/24');
    const a = await eniIn(v, [p]);
    const b = await eniIn(v, [p]);
    assert.deepEqual([a.privateIpAddress, b.privateIpAddress], ['10.0.6.1', '10.0.6.2']);
    await deleteEni(a.networkInterfaceId!);
    const c = await eniIn(v, [p]);
    assert.equal(c.privateIpAddress, '10.0.6.1');
    await deleteEni(b.networkInterfaceId!);
    await deleteEni(c.networkInterfaceId!);
    await deleteVSwitch(v);
  });

  test('CreateNetworkInterface response fields', () => {
    const e = inQ[0]!;
    assert.match(e.networkInterfaceId!, /^eni-[0-9a-z]+$/);
    assert.equal(e.status, 'Available');
    assert.equal(e.vpcId, vpcId);
    assert.equal(e.vSwitchId, vswQ);
    assert.equal(e.zoneId, ZONE);
    assert.equal(e.privateIpAddress, '10.0.5.77');
    assert.deepEqual(e.securityGroupIds?.securityGroupId, [q]);
    assert.deepEqual(
      e.privateIpSets?.privateIpSet?.map((s) => [s.privateIpAddress, s.primary]),
      [['10.0.5.77', true]],
    );
    assert.match(e.macAddress!, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.match(e.requestId!, /^[0-9A-F-]{36}$/);
  });

  test('DescribeVSwitches AvailableIpAddressCount: 252 usable in a /24, minus interfaces', async () => {
    const vp = await vswitchView(vswP);
    assert.equal(vp.availableIpAddressCount, 252 - 12);
    assert.equal(vp.cidrBlock, '10.0.4.0/24');
    assert.equal(vp.vpcId, vpcId);
    assert.equal(vp.zoneId, ZONE);
    assert.equal(vp.status, 'Available');
    assert.equal((await vswitchView(vswQ)).availableIpAddressCount, 250);
    assert.equal((await vswitchView(vswOther)).availableIpAddressCount, 252);
    const extra = await eniIn(vswQ, [q]);
    assert.equal((await vswitchView(vswQ)).availableIpAddressCount, 249);
    await deleteEni(extra.networkInterfaceId!);
    assert.equal((await vswitchView(vswQ)).availableIpAddressCount, 250);
  });

  test('DescribeNetworkInterfaces filters: VpcId, VSwitchId, PrimaryIpAddress, SecurityGroupId, NetworkInterfaceId.N', async () => {
    const pIds = inP.map((e) => e.networkInterfaceId!);
    const qIds = inQ.map((e) => e.networkInterfaceId!);
    const sorted = (xs: string[]) => [...xs].sort();

    const byVsw = await describeEnis({ vSwitchId: vswP, pageSize: 50 });
    assert.deepEqual(sorted(idsOf(byVsw)), sorted(pIds));
    assert.equal(byVsw.totalCount, 12);

    const byVpc = idsOf(await describeEnis({ vpcId, pageSize: 50 }));
    for (const id of [...pIds, ...qIds, eni]) assert.ok(byVpc.includes(id), id);
    assert.deepEqual(idsOf(await describeEnis({ vpcId: otherVpcId })), []);

    const byIp = await describeEnis({ primaryIpAddress: '10.0.5.77' });
    assert.deepEqual(idsOf(byIp), [inQ[0]!.networkInterfaceId!]);
    assert.deepEqual(idsOf(await describeEnis({ primaryIpAddress: '10.0.99.1' })), []);
    // the same address in two vSwitches is told apart by VSwitchId
    assert.deepEqual(idsOf(await describeEnis({ primaryIpAddress: '10.0.4.1', vSwitchId: vswP })), [
      pIds[0]!,
    ]);

    const byQ = await describeEnis({ securityGroupId: q, pageSize: 50 });
    assert.deepEqual(sorted(idsOf(byQ)), sorted([...pIds.filter((_, i) => i % 2 === 1), ...qIds]));
    assert.equal(byQ.totalCount, 8);

    const byIds = await describeEnis({ networkInterfaceId: [pIds[3]!, qIds[1]!, 'eni-nope'] });
    assert.deepEqual(sorted(idsOf(byIds)), sorted([pIds[3]!, qIds[1]!]));

    const combined = await describeEnis({ securityGroupId: q, vSwitchId: vswQ });
    assert.deepEqual(sorted(idsOf(combined)), sorted(qIds));
  });

  test('DescribeNetworkInterfaces response fields', async () => {
    const b = await describeEnis({ networkInterfaceId: [inP[1]!.networkInterfaceId!] });
    const e = b.networkInterfaceSets!.networkInterfaceSet![0]!;
    assert.equal(e.networkInterfaceId, inP[1]!.networkInterfaceId);
    assert.equal(e.status, 'Available');
    assert.equal(e.privateIpAddress, '10.0.4.2');
    assert.equal(e.vpcId, vpcId);
    assert.equal(e.vSwitchId, vswP);
    assert.equal(e.zoneId, ZONE);
    assert.ok(Array.isArray(e.securityGroupIds?.securityGroupId));
    assert.deepEqual([...e.securityGroupIds!.securityGroupId!].sort(), [p, q].sort());
    assert.deepEqual(
      e.privateIpSets?.privateIpSet?.map((s) => [s.privateIpAddress, s.primary]),
      [['10.0.4.2', true]],
    );
    assert.equal(e.macAddress, inP[1]!.macAddress);
    assert.equal(typeof e.creationTime, 'string');
    assert.equal(b.totalCount, 1);
  });

  test('PageNumber/PageSize paging', async () => {
    const seen: string[] = [];
    for (const [page, size] of [
      [1, 5],
      [2, 5],
      [3, 5],
    ] as const) {
      const b = await describeEnis({ vSwitchId: vswP, pageNumber: page, pageSize: size });
      assert.equal(b.totalCount, 12);
      assert.equal(b.pageNumber, page);
      assert.equal(b.pageSize, size);
      assert.equal(idsOf(b).length, page === 3 ? 2 : 5);
      seen.push(...idsOf(b));
    }
    assert.equal(new Set(seen).size, 12);
    assert.deepEqual([...seen].sort(), inP.map((e) => e.networkInterfaceId!).sort());
    const past = await describeEnis({ vSwitchId: vswP, pageNumber: 4, pageSize: 5 });
    assert.deepEqual(idsOf(past), []);
    assert.equal(past.totalCount, 12);
    // default page size 10
    const first = await describeEnis({ vSwitchId: vswP });
    assert.equal(idsOf(first).length, 10);
    assert.equal(first.pageNumber, 1);
    assert.equal(first.pageSize, 10);
  });

  test('MaxResults/NextToken paging', async () => {
    const one = await describeEnis({ vSwitchId: vswP, maxResults: 10 });
    assert.equal(idsOf(one).length, 10);
    assert.equal(one.totalCount, 12);
    assert.ok(one.nextToken, `NextToken after the first page: ${JSON.stringify(one)}`);
    const two = await describeEnis({ vSwitchId: vswP, maxResults: 10, nextToken: one.nextToken });
    assert.equal(idsOf(two).length, 2);
    assert.ok(!two.nextToken, `no NextToken after the last page: ${JSON.stringify(two)}`);
    const all = [...idsOf(one), ...idsOf(two)];
    assert.deepEqual([...all].sort(), inP.map((e) => e.networkInterfaceId!).sort());
    // the token pages follow the same order as the numbered pages
    const numbered = await describeEnis({ vSwitchId: vswP, pageSize: 50 });
    assert.deepEqual(all, idsOf(numbered));
  });

  test('a malformed NextToken → InvalidNextToken.Malformed 400', async () => {
    await expectApiError(
      describeEnis({ vSwitchId: vswP, maxResults: 10, nextToken: '!!not-a-token!!' }),
      'InvalidNextToken.Malformed',
      400,
    );
  });
});

describe('concurrent changes keep the invariants', () => {
  test('concurrent joins of one interface to different groups all take effect', async () => {
    const e = (await eniIn(vswA, [n[0]!])).networkInterfaceId!;
    const results = await Promise.allSettled(n.slice(1, 5).map((g) => join(e, g)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
      JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))),
    );
    assert.deepEqual(await membership(e), n.slice(0, 5).sort(), 'no join may be lost');
    await deleteEni(e);
  });

  test('two concurrent joins past the limit: one succeeds, one → InstanceSecurityGroupLimitExceeded; never 6 groups', async () => {
    const e = (await eniIn(vswA, n.slice(0, 4))).networkInterfaceId!;
    const results = await Promise.allSettled([join(e, n[4]!), join(e, n[5]!)]);
    const groups = await membership(e);
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(
      ok,
      1,
      `${JSON.stringify(results.map((r) => r.status))}; now in ${groups.length} groups`,
    );
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    await expectApiError(Promise.reject(failed.reason), 'InstanceSecurityGroupLimitExceeded', 403);
    assert.equal(groups.length, 5, JSON.stringify(groups));
    await deleteEni(e);
  });

  test('concurrent automatic allocations get distinct addresses', async () => {
    const v = await vswitch('10.0.8.0/24');
    const made = await Promise.all(Array.from({ length: 8 }, () => eniIn(v, [n[1]!])));
    const ips = made.map((e) => e.privateIpAddress!).sort();
    assert.equal(new Set(ips).size, 8, JSON.stringify(ips));
    assert.equal((await vswitchView(v)).availableIpAddressCount, 252 - 8);
    for (const e of made) await deleteEni(e.networkInterfaceId!);
    await deleteVSwitch(v);
  });

  test('DeleteVSwitch racing CreateNetworkInterface never leaves an interface in a deleted vSwitch', async () => {
    for (let i = 0; i < 10; i++) {
      const v = await vswitch(`10.0.${20 + i}.0/24`);
      const [created, deleted] = await Promise.allSettled([eniIn(v, [n[1]!]), deleteVSwitch(v)]);
      const exists = (
        await vpc.describeVSwitches(
          new $Vpc.DescribeVSwitchesRequest({ regionId: R, vSwitchId: v }),
        )
      ).body!.vSwitches?.vSwitch?.length;
      const inIt = idsOf(await describeEnis({ vSwitchId: v }));
      if (deleted.status === 'fulfilled') {
        assert.equal(exists, 0);
        assert.deepEqual(inIt, [], `round ${i}: an interface outlived its vSwitch ${v}`);
        assert.equal(
          created.status,
          'rejected',
          `round ${i}: create succeeded in a deleted vSwitch`,
        );
      } else {
        assert.equal(exists, 1);
        assert.equal(created.status, 'fulfilled');
        await deleteEni(inIt[0]!);
        await deleteVSwitch(v);
      }
    }
  });

  test('DeleteVpc racing CreateVSwitch never leaves a vSwitch in a deleted VPC', async () => {
    for (let i = 0; i < 10; i++) {
      const v = await createVpc('172.16.0.0/16');
      const [created, deleted] = await Promise.allSettled([
        createVSwitch({ vpcId: v, cidrBlock: '172.16.1.0/24' }),
        vpc.deleteVpc(new $Vpc.DeleteVpcRequest({ regionId: R, vpcId: v })),
      ]);
      const left = (
        await vpc.describeVSwitches(new $Vpc.DescribeVSwitchesRequest({ regionId: R, vpcId: v }))
      ).body!.vSwitches?.vSwitch?.length;
      if (deleted.status === 'fulfilled') {
        assert.equal(left, 0, `round ${i}: a vSwitch outlived its VPC ${v}`);
        assert.equal(
          created.status,
          'rejected',
          `round ${i}: CreateVSwitch succeeded in a deleted VPC`,
        );
      } else {
        assert.equal(created.status, 'fulfilled');
        await deleteVSwitch(
          (created as PromiseFulfilledResult<{ body?: $Vpc.CreateVSwitchResponseBody }>).value.body!
            .vSwitchId!,
        );
        await vpc.deleteVpc(new $Vpc.DeleteVpcRequest({ regionId: R, vpcId: v }));
      }
    }
  });
});
