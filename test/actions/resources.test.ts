/**
 * The actions around VPCs, vSwitches, interfaces, tags and resource groups, through the
 * official SDKs: what they change and show, and every error code they return.
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
  VPC_VERSION,
  type VpcClient,
  vpcClient,
} from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

const R = 'cn-hangzhou';
let srv: TestServer;
let ecs: EcsClient;
let vpc: VpcClient;
let vpcId = '';
let vswId = '';
let sg = '';
let sg2 = '';

const ecsTag = (key: string, value = '') => new $Ecs.TagResourcesRequestTag({ key, value });
const vpcTag = (key: string, value = '') => new $Vpc.TagResourcesRequestTag({ key, value });

async function newEni(extra: Partial<$Ecs.CreateNetworkInterfaceRequest> = {}): Promise<string> {
  const r = await ecs.createNetworkInterface(
    new $Ecs.CreateNetworkInterfaceRequest({
      regionId: R,
      vSwitchId: vswId,
      securityGroupId: sg,
      ...extra,
    }),
  );
  return r.body!.networkInterfaceId!;
}

async function eniView(id: string) {
  const r = await ecs.describeNetworkInterfaceAttribute(
    new $Ecs.DescribeNetworkInterfaceAttributeRequest({ regionId: R, networkInterfaceId: id }),
  );
  return r.body!;
}

before(async () => {
  srv = await startServer();
  ecs = ecsClient(srv);
  vpc = vpcClient(srv);
  vpcId = (
    await vpc.createVpc(
      new $Vpc.CreateVpcRequest({
        regionId: R,
        cidrBlock: '10.8.0.0/16',
        tag: [new $Vpc.CreateVpcRequestTag({ key: 'env', value: 'test' })],
        resourceGroupId: 'rg-acfm0000test',
      }),
    )
  ).body!.vpcId!;
  vswId = (
    await vpc.createVSwitch(
      new $Vpc.CreateVSwitchRequest({
        regionId: R,
        vpcId,
        zoneId: 'cn-hangzhou-h',
        cidrBlock: '10.8.1.0/24',
        tag: [new $Vpc.CreateVSwitchRequestTag({ key: 'tier', value: 'app' })],
      }),
    )
  ).body!.vSwitchId!;
  sg = (await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId })))
    .body!.securityGroupId!;
  sg2 = (await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId })))
    .body!.securityGroupId!;
});
after(() => srv?.stop());

describe('VPCs, route tables and vSwitches', () => {
  test('DescribeVpcAttribute, DescribeVpcs and DescribeRouteTableList show tags and the resource group', async () => {
    const a = (
      await vpc.describeVpcAttribute(new $Vpc.DescribeVpcAttributeRequest({ regionId: R, vpcId }))
    ).body!;
    assert.equal(a.status, 'Available');
    assert.equal(a.resourceGroupId, 'rg-acfm0000test');
    assert.deepEqual(
      a.tags?.tag?.map((t) => [t.key, t.value]),
      [['env', 'test']],
    );
    assert.deepEqual(a.vSwitchIds?.vSwitchId, [vswId]);
    const list = (
      await vpc.describeVpcs(
        new $Vpc.DescribeVpcsRequest({
          regionId: R,
          tag: [new $Vpc.DescribeVpcsRequestTag({ key: 'env' })],
        }),
      )
    ).body!;
    assert.deepEqual(
      list.vpcs?.vpc?.map((v) => v.vpcId),
      [vpcId],
    );
    const none = (
      await vpc.describeVpcs(
        new $Vpc.DescribeVpcsRequest({
          regionId: R,
          tag: [new $Vpc.DescribeVpcsRequestTag({ key: 'env', value: 'prod' })],
        }),
      )
    ).body!;
    assert.equal(none.totalCount, 0);
    const tables = (
      await vpc.describeRouteTableList(
        new $Vpc.DescribeRouteTableListRequest({ regionId: R, vpcId }),
      )
    ).body!;
    const [t] = tables.routerTableList!.routerTableListType!;
    assert.equal(t!.routeTableType, 'System');
    assert.equal(t!.vpcId, vpcId);
    assert.equal(t!.resourceGroupId, 'rg-acfm0000test');
    assert.deepEqual(t!.vSwitchIds?.vSwitchId, [vswId]);
    const byId = (
      await vpc.describeRouteTableList(
        new $Vpc.DescribeRouteTableListRequest({ regionId: R, routeTableId: t!.routeTableId }),
      )
    ).body!;
    assert.equal(byId.totalCount, 1);
    const unknown = (
      await vpc.describeRouteTableList(
        new $Vpc.DescribeRouteTableListRequest({ regionId: R, routeTableId: 'vtb-nope' }),
      )
    ).body!;
    assert.equal(unknown.totalCount, 0, 'an unknown table is an empty list, not an error');
  });

  test('ModifyVpcAttribute and ModifyVSwitchAttribute change names and descriptions; the CIDR must keep every vSwitch', async () => {
    await vpc.modifyVpcAttribute(
      new $Vpc.ModifyVpcAttributeRequest({ regionId: R, vpcId, vpcName: 'x', description: 'd' }),
    );
    await vpc.modifyVSwitchAttribute(
      new $Vpc.ModifyVSwitchAttributeRequest({ vSwitchId: vswId, vSwitchName: 'app' }),
    );
    const a = (
      await vpc.describeVpcAttribute(new $Vpc.DescribeVpcAttributeRequest({ regionId: R, vpcId }))
    ).body!;
    assert.equal(a.vpcName, 'x');
    assert.equal(a.description, 'd');
    const v = (
      await vpc.describeVSwitchAttributes(
        new $Vpc.DescribeVSwitchAttributesRequest({ vSwitchId: vswId }),
      )
    ).body!;
    assert.equal(v.vSwitchName, 'app');
    assert.deepEqual(
      v.tags?.tag?.map((t) => [t.key, t.value]),
      [['tier', 'app']],
    );
    assert.equal(v.routeTable?.routeTableType, 'System');
    await expectApiError(
      vpc.modifyVpcAttribute(
        new $Vpc.ModifyVpcAttributeRequest({ regionId: R, vpcId, cidrBlock: '10.8.128.0/17' }),
      ),
      'InvalidCidrBlock.Malformed',
      400,
    );
    await vpc.modifyVpcAttribute(
      new $Vpc.ModifyVpcAttributeRequest({ regionId: R, vpcId, cidrBlock: '10.8.0.0/17' }),
    );
    const b = (
      await vpc.describeVpcAttribute(new $Vpc.DescribeVpcAttributeRequest({ regionId: R, vpcId }))
    ).body!;
    assert.equal(b.cidrBlock, '10.8.0.0/17');
  });

  const cases: [string, () => Promise<unknown>, string, number][] = [
    [
      'DescribeVpcAttribute of an unknown VPC',
      () =>
        vpc.describeVpcAttribute(
          new $Vpc.DescribeVpcAttributeRequest({ regionId: R, vpcId: 'vpc-nope' }),
        ),
      'InvalidVpcId.NotFound',
      404,
    ],
    [
      'ModifyVpcAttribute of an unknown VPC',
      () =>
        vpc.modifyVpcAttribute(
          new $Vpc.ModifyVpcAttributeRequest({ regionId: R, vpcId: 'vpc-nope', vpcName: 'n' }),
        ),
      'InvalidVpcId.NotFound',
      404,
    ],
    [
      'a VPC description starting https://',
      () =>
        vpc.modifyVpcAttribute(
          new $Vpc.ModifyVpcAttributeRequest({ regionId: R, vpcId, description: 'https://x' }),
        ),
      'InvalidVpcDiscription.Malformed',
      400,
    ],
    [
      'a VPC name of 129 characters',
      () =>
        vpc.modifyVpcAttribute(
          new $Vpc.ModifyVpcAttributeRequest({ regionId: R, vpcId, vpcName: 'n'.repeat(129) }),
        ),
      'InvalidVpcName.Malformed',
      400,
    ],
    [
      'EnableIPv6 on a VPC',
      () =>
        vpc.modifyVpcAttribute(
          new $Vpc.ModifyVpcAttributeRequest({ regionId: R, vpcId, enableIPv6: true }),
        ),
      'UnsupportedParameter',
      400,
    ],
    [
      'DescribeVSwitchAttributes of an unknown vSwitch',
      () =>
        vpc.describeVSwitchAttributes(
          new $Vpc.DescribeVSwitchAttributesRequest({ regionId: R, vSwitchId: 'vsw-nope' }),
        ),
      'InvalidVSwitchId.NotFound',
      404,
    ],
    [
      'DescribeVSwitchAttributes in another region',
      () =>
        vpc.describeVSwitchAttributes(
          new $Vpc.DescribeVSwitchAttributesRequest({ regionId: 'cn-shanghai', vSwitchId: vswId }),
        ),
      'InvalidVSwitchId.NotFound',
      404,
    ],
    [
      'ModifyVSwitchAttribute with a name starting http://',
      () =>
        vpc.modifyVSwitchAttribute(
          new $Vpc.ModifyVSwitchAttributeRequest({ vSwitchId: vswId, vSwitchName: 'http://x' }),
        ),
      'InvalidVSwitchName.Malformed',
      400,
    ],
    [
      'ModifyVSwitchAttribute enabling IPv6',
      () =>
        vpc.modifyVSwitchAttribute(
          new $Vpc.ModifyVSwitchAttributeRequest({ vSwitchId: vswId, enableIPv6: true }),
        ),
      'UnsupportedParameter',
      400,
    ],
    [
      'DescribeRouteTableList with a bad RouteTableType',
      () =>
        vpc.describeRouteTableList(
          new $Vpc.DescribeRouteTableListRequest({ regionId: R, routeTableType: 'Other' }),
        ),
      'InvalidParameter',
      400,
    ],
    [
      'CreateVpc with a tag value starting acs:',
      () =>
        vpc.createVpc(
          new $Vpc.CreateVpcRequest({
            regionId: R,
            tag: [new $Vpc.CreateVpcRequestTag({ key: 'k', value: 'acs:x' })],
          }),
        ),
      'InvalidTagValue',
      400,
    ],
    [
      'CreateVSwitch with a tag key starting aliyun',
      () =>
        vpc.createVSwitch(
          new $Vpc.CreateVSwitchRequest({
            regionId: R,
            vpcId,
            zoneId: 'cn-hangzhou-h',
            cidrBlock: '10.8.2.0/24',
            tag: [new $Vpc.CreateVSwitchRequestTag({ key: 'aliyunx', value: 'v' })],
          }),
        ),
      'InvalidTagKey',
      400,
    ],
    [
      'CreateVpc with a malformed resource group',
      () => vpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: R, resourceGroupId: 'group-1' })),
      'InvalidResourceGroupId.Malformed',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      await expectApiError(call(), code, status);
    });
  }
});

describe('tags and resource groups', () => {
  test('ECS TagResources re-values keys, UntagResources removes some or All, ListTagResources pages', async () => {
    await ecs.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: R,
        resourceType: 'securitygroup',
        resourceId: [sg, sg2],
        tag: [ecsTag('a', '1'), ecsTag('b', '2')],
      }),
    );
    await ecs.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: R,
        resourceType: 'securitygroup',
        resourceId: [sg],
        tag: [ecsTag('a', 'x')],
      }),
    );
    const list = async (extra: Partial<$Ecs.ListTagResourcesRequest>) =>
      (
        await ecs.listTagResources(
          new $Ecs.ListTagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            ...extra,
          }),
        )
      ).body!;
    const mine = await list({ resourceId: [sg] });
    assert.deepEqual(
      mine.tagResources?.tagResource?.map((t) => [
        t.resourceId,
        t.resourceType,
        t.tagKey,
        t.tagValue,
      ]),
      [
        [sg, 'securitygroup', 'b', '2'],
        [sg, 'securitygroup', 'a', 'x'],
      ],
    );
    const byTag = await list({
      tag: [new $Ecs.ListTagResourcesRequestTag({ key: 'a', value: '1' })],
    });
    assert.deepEqual(
      [...new Set(byTag.tagResources?.tagResource?.map((t) => t.resourceId))],
      [sg2],
    );
    const g = (
      await ecs.describeSecurityGroups(
        new $Ecs.DescribeSecurityGroupsRequest({ regionId: R, securityGroupId: sg }),
      )
    ).body!;
    assert.deepEqual(
      g.securityGroups?.securityGroup?.[0]?.tags?.tag?.map((t) => [t.tagKey, t.tagValue]),
      [
        ['b', '2'],
        ['a', 'x'],
      ],
    );
    const counts = (await ecs.describeTags(new $Ecs.DescribeTagsRequest({ regionId: R }))).body!;
    const a1 = counts.tags?.tag?.find((t) => t.tagKey === 'a' && t.tagValue === '1');
    assert.equal(a1?.resourceTypeCount?.securitygroup, 1);
    await ecs.untagResources(
      new $Ecs.UntagResourcesRequest({
        regionId: R,
        resourceType: 'securitygroup',
        resourceId: [sg],
        tagKey: ['a', 'nope'],
      }),
    );
    assert.deepEqual(
      (await list({ resourceId: [sg] })).tagResources?.tagResource?.map((t) => t.tagKey),
      ['b'],
    );
    await ecs.untagResources(
      new $Ecs.UntagResourcesRequest({
        regionId: R,
        resourceType: 'securitygroup',
        resourceId: [sg, sg2],
        all: true,
      }),
    );
    assert.deepEqual((await list({ resourceId: [sg, sg2] })).tagResources?.tagResource, []);
    // 60 tag rows, 50 a page
    const eni = await newEni();
    const many = Array.from({ length: 20 }, (_, i) => ecsTag(`k${i}`, 'v'));
    for (const id of [sg, sg2]) {
      await ecs.tagResources(
        new $Ecs.TagResourcesRequest({
          regionId: R,
          resourceType: 'securitygroup',
          resourceId: [id],
          tag: many,
        }),
      );
    }
    const page1 = await list({ resourceId: [sg, sg2] });
    assert.equal(page1.tagResources?.tagResource?.length, 40);
    assert.equal(page1.nextToken, '');
    await ecs.tagResources(
      new $Ecs.TagResourcesRequest({
        regionId: R,
        resourceType: 'eni',
        resourceId: [eni],
        tag: many,
      }),
    );
    const enis = (
      await ecs.listTagResources(
        new $Ecs.ListTagResourcesRequest({ regionId: R, resourceType: 'eni', resourceId: [eni] }),
      )
    ).body!;
    assert.equal(enis.tagResources?.tagResource?.[0]?.resourceType, 'eni');
    const v = await eniView(eni);
    assert.equal(v.tags?.tag?.length, 20);
  });

  test('VPC TagResources/UnTagResources/ListTagResources (case-insensitive types), paging with NextToken', async () => {
    // 19 more beside the VPC's env tag (and the vSwitch's tier tag)
    const tags = Array.from({ length: 19 }, (_, i) => vpcTag(`t${i}`, `${i}`));
    await vpc.tagResources(
      new $Vpc.TagResourcesRequest({
        regionId: R,
        resourceType: 'vpc',
        resourceId: [vpcId],
        tag: tags,
      }),
    );
    await vpc.tagResources(
      new $Vpc.TagResourcesRequest({
        regionId: R,
        resourceType: 'VSWITCH',
        resourceId: [vswId],
        tag: tags,
      }),
    );
    const first = (
      await vpc.listTagResources(
        new $Vpc.ListTagResourcesRequest({
          regionId: R,
          resourceType: 'VPC',
          resourceId: [vpcId],
          maxResults: 15,
        }),
      )
    ).body!;
    assert.equal(first.tagResources?.tagResource?.length, 15);
    assert.equal(first.tagResources?.tagResource?.[0]?.resourceType, 'VPC');
    assert.notEqual(first.nextToken, '');
    const second = (
      await vpc.listTagResources(
        new $Vpc.ListTagResourcesRequest({
          regionId: R,
          resourceType: 'VPC',
          resourceId: [vpcId],
          maxResults: 15,
          nextToken: first.nextToken,
        }),
      )
    ).body!;
    assert.equal(second.tagResources?.tagResource?.length, 5);
    assert.equal(second.nextToken, '');
    await vpc.unTagResources(
      new $Vpc.UnTagResourcesRequest({
        regionId: R,
        resourceType: 'Vpc',
        resourceId: [vpcId],
        all: true,
      }),
    );
    const a = (
      await vpc.describeVpcAttribute(new $Vpc.DescribeVpcAttributeRequest({ regionId: R, vpcId }))
    ).body!;
    assert.deepEqual(a.tags?.tag, []);
    const sw = (
      await vpc.describeVSwitches(new $Vpc.DescribeVSwitchesRequest({ regionId: R, vpcId }))
    ).body!;
    assert.equal(sw.vSwitches?.vSwitch?.[0]?.tags?.tag?.length, 20);
  });

  test('JoinResourceGroup (security group, interface) and MoveResourceGroup (VPC, its route table along)', async () => {
    const eni = await newEni();
    await ecs.joinResourceGroup(
      new $Ecs.JoinResourceGroupRequest({
        regionId: R,
        resourceId: sg2,
        resourceType: 'securitygroup',
        resourceGroupId: 'rg-b',
      }),
    );
    await ecs.joinResourceGroup(
      new $Ecs.JoinResourceGroupRequest({
        regionId: R,
        resourceId: eni,
        resourceType: 'eni',
        resourceGroupId: 'rg-c',
      }),
    );
    const g = (
      await ecs.describeSecurityGroups(
        new $Ecs.DescribeSecurityGroupsRequest({ regionId: R, resourceGroupId: 'rg-b' }),
      )
    ).body!;
    assert.deepEqual(
      g.securityGroups?.securityGroup?.map((x) => x.securityGroupId),
      [sg2],
    );
    assert.equal((await eniView(eni)).resourceGroupId, 'rg-c');
    await vpc.moveResourceGroup(
      new $Vpc.MoveResourceGroupRequest({
        regionId: R,
        resourceId: vpcId,
        resourceType: 'VPC',
        newResourceGroupId: 'rg-d',
      }),
    );
    const t = (
      await vpc.describeRouteTableList(
        new $Vpc.DescribeRouteTableListRequest({ regionId: R, vpcId }),
      )
    ).body!;
    assert.equal(t.routerTableList?.routerTableListType?.[0]?.resourceGroupId, 'rg-d');
  });

  const cases: [string, () => Promise<unknown>, string, number][] = [
    [
      'TagResources of an unsupported ECS type',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'instance',
            resourceId: [sg],
            tag: [ecsTag('k')],
          }),
        ),
      'InvalidResourceType.NotFound',
      404,
    ],
    [
      'ECS resource types are case-sensitive',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'SecurityGroup',
            resourceId: [sg],
            tag: [ecsTag('k')],
          }),
        ),
      'InvalidResourceType.NotFound',
      404,
    ],
    [
      'TagResources of an unknown resource (nothing tagged)',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg, 'sg-nope'],
            tag: [ecsTag('k')],
          }),
        ),
      'InvalidResourceId.NotFound',
      404,
    ],
    [
      'TagResources without ResourceId',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            tag: [ecsTag('k')],
          }),
        ),
      'MissingParameter',
      400,
    ],
    [
      'TagResources without Tag',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg],
          }),
        ),
      'MissingParameter',
      400,
    ],
    [
      '21 tags in one call',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg],
            tag: Array.from({ length: 21 }, (_, i) => ecsTag(`x${i}`)),
          }),
        ),
      'NumberExceed.Tags',
      400,
    ],
    [
      '51 resource ids in one call',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: Array.from({ length: 51 }, () => sg),
            tag: [ecsTag('k')],
          }),
        ),
      'NumberExceed.ResourceIds',
      400,
    ],
    [
      'a 21st tag on a resource',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg],
            tag: [ecsTag('one-more')],
          }),
        ),
      'OperationDenied.QuotaExceed',
      400,
    ],
    [
      'a tag key starting acs:',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg],
            tag: [ecsTag('acs:k')],
          }),
        ),
      'InvalidTagKey.Malformed',
      400,
    ],
    [
      'a tag value with https://',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg],
            tag: [ecsTag('k', 'see https://x')],
          }),
        ),
      'InvalidTagValue.Malformed',
      400,
    ],
    [
      'the same key twice',
      () =>
        ecs.tagResources(
          new $Ecs.TagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg],
            tag: [ecsTag('k'), ecsTag('k')],
          }),
        ),
      'Duplicate.TagKey',
      400,
    ],
    [
      'ListTagResources without ResourceId or Tag',
      () =>
        ecs.listTagResources(
          new $Ecs.ListTagResourcesRequest({ regionId: R, resourceType: 'securitygroup' }),
        ),
      'MissingParameter.TagOrResourceId',
      400,
    ],
    [
      'ListTagResources with a value but no key',
      () =>
        ecs.listTagResources(
          new $Ecs.ListTagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            tag: [new $Ecs.ListTagResourcesRequestTag({ value: 'v' })],
          }),
        ),
      'InvalidParameter',
      400,
    ],
    [
      'ListTagResources with a malformed NextToken',
      () =>
        ecs.listTagResources(
          new $Ecs.ListTagResourcesRequest({
            regionId: R,
            resourceType: 'securitygroup',
            resourceId: [sg],
            nextToken: 'x',
          }),
        ),
      'InvalidNextToken.Malformed',
      400,
    ],
    [
      'UntagResources of an unknown interface',
      () =>
        ecs.untagResources(
          new $Ecs.UntagResourcesRequest({
            regionId: R,
            resourceType: 'eni',
            resourceId: ['eni-nope'],
            all: true,
          }),
        ),
      'InvalidResourceId.NotFound',
      404,
    ],
    [
      'VPC TagResources of a route table',
      () =>
        vpc.tagResources(
          new $Vpc.TagResourcesRequest({
            regionId: R,
            resourceType: 'ROUTETABLE',
            resourceId: ['vtb-1'],
            tag: [vpcTag('k')],
          }),
        ),
      'InvalidResourceType.NotFound',
      404,
    ],
    [
      'VPC TagResources with a value starting aliyun',
      () =>
        vpc.tagResources(
          new $Vpc.TagResourcesRequest({
            regionId: R,
            resourceType: 'VPC',
            resourceId: [vpcId],
            tag: [vpcTag('k', 'aliyun-x')],
          }),
        ),
      'InvalidTagValue',
      400,
    ],
    [
      'VPC UnTagResources of an unknown vSwitch',
      () =>
        vpc.unTagResources(
          new $Vpc.UnTagResourcesRequest({
            regionId: R,
            resourceType: 'VSWITCH',
            resourceId: ['vsw-nope'],
            tagKey: ['k'],
          }),
        ),
      'InvalidResourceId.NotFound',
      404,
    ],
    [
      'JoinResourceGroup with a malformed group',
      () =>
        ecs.joinResourceGroup(
          new $Ecs.JoinResourceGroupRequest({
            regionId: R,
            resourceId: sg,
            resourceType: 'securitygroup',
            resourceGroupId: 'rg_1',
          }),
        ),
      'InvalidResourceGroupId.Malformed',
      400,
    ],
    [
      'JoinResourceGroup without a group',
      () =>
        ecs.joinResourceGroup(
          new $Ecs.JoinResourceGroupRequest({
            regionId: R,
            resourceId: sg,
            resourceType: 'securitygroup',
          }),
        ),
      'MissingParameter',
      400,
    ],
    [
      'JoinResourceGroup of an unknown group',
      () =>
        ecs.joinResourceGroup(
          new $Ecs.JoinResourceGroupRequest({
            regionId: R,
            resourceId: 'sg-nope',
            resourceType: 'securitygroup',
            resourceGroupId: 'rg-b',
          }),
        ),
      'InvalidResourceId.NotFound',
      404,
    ],
    [
      'MoveResourceGroup of a vSwitch',
      () =>
        vpc.moveResourceGroup(
          new $Vpc.MoveResourceGroupRequest({
            regionId: R,
            resourceId: vswId,
            resourceType: 'VSWITCH',
            newResourceGroupId: 'rg-d',
          }),
        ),
      'InvalidResourceType.NotFound',
      404,
    ],
    [
      'MoveResourceGroup without NewResourceGroupId',
      () =>
        vpc.moveResourceGroup(
          new $Vpc.MoveResourceGroupRequest({
            regionId: R,
            resourceId: vpcId,
            resourceType: 'VPC',
          }),
        ),
      'MissingParameter',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      await expectApiError(call(), code, status);
    });
  }
});

describe('network interfaces', () => {
  test('secondary addresses at creation, assigned by count or list, unassigned; the vSwitch count follows', async () => {
    const eni = await newEni({
      privateIpAddress: ['10.8.1.100', '10.8.1.101'],
      tag: [new $Ecs.CreateNetworkInterfaceRequestTag({ key: 'r', value: 'db' })],
    });
    const v = await eniView(eni);
    assert.deepEqual(
      v.privateIpSets?.privateIpSet?.map((p) => [p.privateIpAddress, p.primary]),
      [
        [v.privateIpAddress, true],
        ['10.8.1.100', false],
        ['10.8.1.101', false],
      ],
    );
    assert.deepEqual(
      v.tags?.tag?.map((t) => [t.tagKey, t.tagValue]),
      [['r', 'db']],
    );
    const before = (
      await vpc.describeVSwitchAttributes(
        new $Vpc.DescribeVSwitchAttributesRequest({ regionId: R, vSwitchId: vswId }),
      )
    ).body!.availableIpAddressCount!;
    const got = await ecs.assignPrivateIpAddresses(
      new $Ecs.AssignPrivateIpAddressesRequest({
        regionId: R,
        networkInterfaceId: eni,
        secondaryPrivateIpAddressCount: 2,
      }),
    );
    const added = got.body!.assignedPrivateIpAddressesSet!.privateIpSet!.privateIpAddress!;
    assert.equal(added.length, 2);
    const after = (
      await vpc.describeVSwitchAttributes(
        new $Vpc.DescribeVSwitchAttributesRequest({ regionId: R, vSwitchId: vswId }),
      )
    ).body!.availableIpAddressCount!;
    assert.equal(after, before - 2);
    await ecs.unassignPrivateIpAddresses(
      new $Ecs.UnassignPrivateIpAddressesRequest({
        regionId: R,
        networkInterfaceId: eni,
        privateIpAddress: ['10.8.1.100', added[0]!],
      }),
    );
    const w = await eniView(eni);
    assert.deepEqual(
      w.privateIpSets?.privateIpSet?.filter((p) => !p.primary).map((p) => p.privateIpAddress),
      ['10.8.1.101', added[1]],
    );
    // DescribeNetworkInterfaces filters by secondary address
    const found = (
      await ecs.describeNetworkInterfaces(
        new $Ecs.DescribeNetworkInterfacesRequest({
          regionId: R,
          privateIpAddress: ['10.8.1.101'],
        }),
      )
    ).body!;
    assert.deepEqual(
      found.networkInterfaceSets?.networkInterfaceSet?.map((x) => x.networkInterfaceId),
      [eni],
    );
  });

  test('ModifyNetworkInterfaceAttribute replaces the groups, name, description and settings', async () => {
    const eni = await newEni();
    await ecs.modifyNetworkInterfaceAttribute(
      new $Ecs.ModifyNetworkInterfaceAttributeRequest({
        regionId: R,
        networkInterfaceId: eni,
        securityGroupId: [sg2, sg],
        networkInterfaceName: 'db-1',
        description: 'database',
        queueNumber: 4,
        sourceDestCheck: true,
        deleteOnRelease: false,
      }),
    );
    const v = await eniView(eni);
    assert.deepEqual(v.securityGroupIds?.securityGroupId, [sg2, sg]);
    assert.equal(v.networkInterfaceName, 'db-1');
    assert.equal(v.description, 'database');
    assert.equal(v.queueNumber, 4);
    assert.equal(v.sourceDestCheck, true);
    assert.equal(v.deleteOnRelease, false);
  });

  test('MaxResults below 10 or above 500 is brought into 10-500 (as documented)', async () => {
    for (let i = 0; i < 11; i++) await newEni();
    const small = (
      await ecs.describeNetworkInterfaces(
        new $Ecs.DescribeNetworkInterfacesRequest({ regionId: R, maxResults: 1 }),
      )
    ).body!;
    assert.equal(small.networkInterfaceSets?.networkInterfaceSet?.length, 10);
    assert.notEqual(small.nextToken, '');
    const big = (
      await ecs.describeNetworkInterfaces(
        new $Ecs.DescribeNetworkInterfacesRequest({ regionId: R, maxResults: 5000 }),
      )
    ).body!;
    assert.equal(big.nextToken, '');
  });

  const eni = () =>
    ecs
      .describeNetworkInterfaces(
        new $Ecs.DescribeNetworkInterfacesRequest({
          regionId: R,
          vSwitchId: vswId,
          maxResults: 10,
        }),
      )
      .then((r) => r.body!.networkInterfaceSets!.networkInterfaceSet![0]!.networkInterfaceId!);
  const otherVpcGroup = async () => {
    const other = (
      await vpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: R, cidrBlock: '10.9.0.0/16' }))
    ).body!.vpcId!;
    return (
      await ecs.createSecurityGroup(
        new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId: other }),
      )
    ).body!.securityGroupId!;
  };
  const cases: [string, () => Promise<unknown>, string, number][] = [
    [
      'DescribeNetworkInterfaceAttribute of an unknown interface',
      () =>
        ecs.describeNetworkInterfaceAttribute(
          new $Ecs.DescribeNetworkInterfaceAttributeRequest({
            regionId: R,
            networkInterfaceId: 'eni-nope',
          }),
        ),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'ModifyNetworkInterfaceAttribute of an unknown interface',
      () =>
        ecs.modifyNetworkInterfaceAttribute(
          new $Ecs.ModifyNetworkInterfaceAttributeRequest({
            regionId: R,
            networkInterfaceId: 'eni-nope',
            networkInterfaceName: 'n1',
          }),
        ),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'six groups',
      async () =>
        ecs.modifyNetworkInterfaceAttribute(
          new $Ecs.ModifyNetworkInterfaceAttributeRequest({
            regionId: R,
            networkInterfaceId: await eni(),
            securityGroupId: ['sg-a', 'sg-b', 'sg-c', 'sg-d', 'sg-e', 'sg-f'],
          }),
        ),
      'InstanceSecurityGroupLimitExceeded',
      403,
    ],
    [
      'a group of another VPC',
      async () =>
        ecs.modifyNetworkInterfaceAttribute(
          new $Ecs.ModifyNetworkInterfaceAttributeRequest({
            regionId: R,
            networkInterfaceId: await eni(),
            securityGroupId: [await otherVpcGroup()],
          }),
        ),
      'InvalidSecurityGroupId.NotInSameVpc',
      400,
    ],
    [
      'an unknown group',
      async () =>
        ecs.modifyNetworkInterfaceAttribute(
          new $Ecs.ModifyNetworkInterfaceAttributeRequest({
            regionId: R,
            networkInterfaceId: await eni(),
            securityGroupId: ['sg-nope'],
          }),
        ),
      'InvalidSecurityGroupId.NotFound',
      404,
    ],
    [
      'a description of 256 characters',
      async () =>
        ecs.modifyNetworkInterfaceAttribute(
          new $Ecs.ModifyNetworkInterfaceAttributeRequest({
            regionId: R,
            networkInterfaceId: await eni(),
            description: 'd'.repeat(256),
          }),
        ),
      'InvalidDescription.Malformed',
      400,
    ],
    [
      'QueueNumber 0',
      async () =>
        ecs.modifyNetworkInterfaceAttribute(
          new $Ecs.ModifyNetworkInterfaceAttributeRequest({
            regionId: R,
            networkInterfaceId: await eni(),
            queueNumber: 0,
          }),
        ),
      'InvalidParameter',
      400,
    ],
    [
      'a list and a count of secondary addresses',
      () =>
        ecs.createNetworkInterface(
          new $Ecs.CreateNetworkInterfaceRequest({
            regionId: R,
            vSwitchId: vswId,
            securityGroupId: sg,
            privateIpAddress: ['10.8.1.150'],
            secondaryPrivateIpAddressCount: 1,
          }),
        ),
      'InvalidParameter.Conflict',
      400,
    ],
    [
      '11 secondary addresses at creation',
      () =>
        ecs.createNetworkInterface(
          new $Ecs.CreateNetworkInterfaceRequest({
            regionId: R,
            vSwitchId: vswId,
            securityGroupId: sg,
            privateIpAddress: Array.from({ length: 11 }, (_, i) => `10.8.1.${160 + i}`),
          }),
        ),
      'InvalidParameter.TooMany',
      400,
    ],
    [
      'a secondary address outside the vSwitch',
      () =>
        ecs.createNetworkInterface(
          new $Ecs.CreateNetworkInterfaceRequest({
            regionId: R,
            vSwitchId: vswId,
            securityGroupId: sg,
            privateIpAddress: ['10.8.2.5'],
          }),
        ),
      'InvalidVSwitchId.IpInvalid',
      403,
    ],
    [
      'a secondary address given twice',
      () =>
        ecs.createNetworkInterface(
          new $Ecs.CreateNetworkInterfaceRequest({
            regionId: R,
            vSwitchId: vswId,
            securityGroupId: sg,
            privateIpAddress: ['10.8.1.190', '10.8.1.190'],
          }),
        ),
      'InvalidPrivateIpAddress.Duplicated',
      400,
    ],
    [
      'a malformed secondary address',
      () =>
        ecs.createNetworkInterface(
          new $Ecs.CreateNetworkInterfaceRequest({
            regionId: R,
            vSwitchId: vswId,
            securityGroupId: sg,
            privateIpAddress: ['10.8.1'],
          }),
        ),
      'InvalidPrivateIpAddress.Malformed',
      400,
    ],
    [
      'Assign of an address in use',
      async () =>
        ecs.assignPrivateIpAddresses(
          new $Ecs.AssignPrivateIpAddressesRequest({
            regionId: R,
            networkInterfaceId: await eni(),
            privateIpAddress: ['10.8.1.101'],
          }),
        ),
      'InvalidIp.IpAssigned',
      403,
    ],
    [
      'Assign without a list or a count',
      async () =>
        ecs.assignPrivateIpAddresses(
          new $Ecs.AssignPrivateIpAddressesRequest({
            regionId: R,
            networkInterfaceId: await eni(),
          }),
        ),
      'MissingParameter',
      400,
    ],
    [
      'Assign to an unknown interface',
      () =>
        ecs.assignPrivateIpAddresses(
          new $Ecs.AssignPrivateIpAddressesRequest({
            regionId: R,
            networkInterfaceId: 'eni-nope',
            secondaryPrivateIpAddressCount: 1,
          }),
        ),
      'InvalidEniId.NotFound',
      404,
    ],
    [
      'more addresses than the vSwitch has',
      async () => {
        const small = (
          await vpc.createVSwitch(
            new $Vpc.CreateVSwitchRequest({
              regionId: R,
              vpcId,
              zoneId: 'cn-hangzhou-h',
              cidrBlock: '10.8.3.0/29',
            }),
          )
        ).body!.vSwitchId!;
        const id = await newEni({ vSwitchId: small });
        return ecs.assignPrivateIpAddresses(
          new $Ecs.AssignPrivateIpAddressesRequest({
            regionId: R,
            networkInterfaceId: id,
            secondaryPrivateIpAddressCount: 4,
          }),
        );
      },
      'InvalidVSwitchId.IpNotEnough',
      403,
    ],
    [
      'Unassign of an address the interface does not hold',
      async () =>
        ecs.unassignPrivateIpAddresses(
          new $Ecs.UnassignPrivateIpAddressesRequest({
            regionId: R,
            networkInterfaceId: await eni(),
            privateIpAddress: ['10.8.1.250'],
          }),
        ),
      'InvalidIp.IpUnassigned',
      403,
    ],
    [
      'Unassign without addresses',
      async () =>
        ecs.unassignPrivateIpAddresses(
          new $Ecs.UnassignPrivateIpAddressesRequest({
            regionId: R,
            networkInterfaceId: await eni(),
          }),
        ),
      'MissingParameter',
      400,
    ],
  ];
  for (const [name, call, code, status] of cases) {
    test(`${name} → ${code} ${status}`, async () => {
      await expectApiError(call(), code, status);
    });
  }

  test('the 50th secondary address → QuotaExceed.PrivateIpAddress 403', async () => {
    const big = (
      await vpc.createVSwitch(
        new $Vpc.CreateVSwitchRequest({
          regionId: R,
          vpcId,
          zoneId: 'cn-hangzhou-h',
          cidrBlock: '10.8.64.0/18',
        }),
      )
    ).body!.vSwitchId!;
    const id = (
      await ecs.createNetworkInterface(
        new $Ecs.CreateNetworkInterfaceRequest({
          regionId: R,
          vSwitchId: big,
          securityGroupId: sg,
          secondaryPrivateIpAddressCount: 49,
        }),
      )
    ).body!.networkInterfaceId!;
    await expectApiError(
      ecs.assignPrivateIpAddresses(
        new $Ecs.AssignPrivateIpAddressesRequest({
          regionId: R,
          networkInterfaceId: id,
          secondaryPrivateIpAddressCount: 1,
        }),
      ),
      'QuotaExceed.PrivateIpAddress',
      403,
    );
  });
});

describe('rules as the provider uses them', () => {
  test('Modify by definition changes priority and description; no such rule → SecurityGroupRule.NotFound 404', async () => {
    const g = (
      await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId }))
    ).body!.securityGroupId!;
    await ecs.authorizeSecurityGroup(
      new $Ecs.AuthorizeSecurityGroupRequest({
        regionId: R,
        securityGroupId: g,
        ipProtocol: 'tcp',
        portRange: '22/22',
        sourceCidrIp: '10.1.2.3/8',
        description: 'a',
      }),
    );
    // named by the normalised form: the same rule
    await ecs.modifySecurityGroupRule(
      new $Ecs.ModifySecurityGroupRuleRequest({
        regionId: R,
        securityGroupId: g,
        ipProtocol: 'TCP',
        portRange: '22/22',
        sourceCidrIp: '10.0.0.0/8',
        priority: '9',
        description: 'b',
      }),
    );
    const perms = async () =>
      (
        await ecs.describeSecurityGroupAttribute(
          new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: g }),
        )
      ).body!.permissions!.permission!;
    const [p] = await perms();
    assert.equal(p!.priority, '9');
    assert.equal(p!.description, 'b');
    assert.equal(p!.sourceCidrIp, '10.1.2.3/8', 'the spelling it was created with');
    await expectApiError(
      ecs.modifySecurityGroupRule(
        new $Ecs.ModifySecurityGroupRuleRequest({
          regionId: R,
          securityGroupId: g,
          ipProtocol: 'tcp',
          portRange: '23/23',
          sourceCidrIp: '10.0.0.0/8',
          description: 'c',
        }),
      ),
      'SecurityGroupRule.NotFound',
      404,
    );
    await expectApiError(
      ecs.modifySecurityGroupEgressRule(
        new $Ecs.ModifySecurityGroupEgressRuleRequest({
          regionId: R,
          securityGroupId: g,
          ipProtocol: 'tcp',
          portRange: '22/22',
          destCidrIp: '10.0.0.0/8',
        }),
      ),
      'SecurityGroupRule.NotFound',
      404,
    );
  });

  test('an unknown NicType filter is ignored: DescribeSecurityGroupAttribute NicType=<nil>', async () => {
    const g = (
      await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId }))
    ).body!.securityGroupId!;
    await ecs.authorizeSecurityGroup(
      new $Ecs.AuthorizeSecurityGroupRequest({
        regionId: R,
        securityGroupId: g,
        ipProtocol: 'tcp',
        portRange: '80/80',
        sourceCidrIp: '1.2.3.4',
      }),
    );
    const r = await signedV1(srv, {
      Action: 'DescribeSecurityGroupAttribute',
      Version: '2014-05-26',
      RegionId: R,
      SecurityGroupId: g,
      NicType: '<nil>',
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.Permissions.Permission.length, 1);
    assert.equal(r.body.Permissions.Permission[0].SourceCidrIp, '1.2.3.4');
    const none = await signedV1(srv, {
      Action: 'DescribeSecurityGroupAttribute',
      Version: '2014-05-26',
      RegionId: R,
      SecurityGroupId: g,
      NicType: 'internet',
    });
    assert.equal(none.body.Permissions.Permission.length, 0, 'a real NicType still filters');
  });

  test('icmpv6 with an IPv6 far end; with an IPv4 or group far end → InvalidParam.Ipv6ProtocolConflictWithIpv4Address', async () => {
    const g = (
      await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId }))
    ).body!.securityGroupId!;
    await ecs.authorizeSecurityGroup(
      new $Ecs.AuthorizeSecurityGroupRequest({
        regionId: R,
        securityGroupId: g,
        ipProtocol: 'icmpv6',
        portRange: '-1/-1',
        ipv6SourceCidrIp: '2001:db8::/32',
      }),
    );
    const [p] = (
      await ecs.describeSecurityGroupAttribute(
        new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: g }),
      )
    ).body!.permissions!.permission!;
    assert.equal(p!.ipProtocol, 'ICMPv6');
    for (const far of [{ sourceCidrIp: '10.0.0.0/8' }, { sourceGroupId: sg }]) {
      await expectApiError(
        ecs.authorizeSecurityGroup(
          new $Ecs.AuthorizeSecurityGroupRequest({
            regionId: R,
            securityGroupId: g,
            ipProtocol: 'icmpv6',
            portRange: '-1/-1',
            ...far,
          }),
        ),
        'InvalidParam.Ipv6ProtocolConflictWithIpv4Address',
        400,
      );
    }
    await expectApiError(
      ecs.authorizeSecurityGroup(
        new $Ecs.AuthorizeSecurityGroupRequest({
          regionId: R,
          securityGroupId: g,
          ipProtocol: 'icmpv6',
          portRange: '1/2',
          ipv6SourceCidrIp: '::/0',
        }),
      ),
      'OperationDenied',
      400,
    );
  });

  test('VPC 2016-04-28 actions are served on the same endpoint under their own version only', async () => {
    const r = await signedV1(srv, {
      Action: 'DescribeVpcAttribute',
      Version: '2014-05-26',
      RegionId: R,
      VpcId: vpcId,
    });
    assert.equal(r.status, 404, r.text);
    assert.equal(r.body.Code, 'InvalidAction.NotFound');
    const ok = await signedV1(srv, {
      Action: 'DescribeVpcAttribute',
      Version: VPC_VERSION,
      RegionId: R,
      VpcId: vpcId,
    });
    assert.equal(ok.status, 200, ok.text);
  });
});
