/**
 * Small shared pieces of the action tests: v1-signed calls (raw params, raw wire JSON),
 * and the response shapes the tests assert.
 */
import assert from 'node:assert/strict';
import * as $Ecs from '@alicloud/ecs20140526';
import * as $Vpc from '@alicloud/vpc20160428';
import {
  type Credentials,
  ECS_VERSION,
  type EcsClient,
  type Endpoint,
  type RawResponse,
  signedV1,
  type V1Options,
  VPC_VERSION,
  type VpcClient,
} from '../helpers/clients.js';

export const REGION = 'cn-hangzhou';
export const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
export const ENVELOPE = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId'];

/** Every field of a Permission of DescribeSecurityGroupAttribute (WIRE.md). */
export const PERMISSION_FIELDS = [
  'SecurityGroupRuleId',
  'Direction',
  'IpProtocol',
  'PortRange',
  'SourcePortRange',
  'Policy',
  'Priority',
  'NicType',
  'SourceCidrIp',
  'DestCidrIp',
  'Ipv6SourceCidrIp',
  'Ipv6DestCidrIp',
  'SourceGroupId',
  'SourceGroupName',
  'SourceGroupOwnerAccount',
  'DestGroupId',
  'DestGroupName',
  'DestGroupOwnerAccount',
  'SourcePrefixListId',
  'DestPrefixListId',
  'Description',
  'CreateTime',
] as const;

export type Permission = Record<(typeof PERMISSION_FIELDS)[number], string>;

/** A v1-signed ECS call with `RegionId` defaulted; resolves to the raw response. */
export function ecsV1(
  srv: Endpoint,
  action: string,
  params: Record<string, string> = {},
  opts: V1Options = {},
): Promise<RawResponse> {
  return signedV1(srv, { Action: action, Version: ECS_VERSION, RegionId: REGION, ...params }, opts);
}

/** Like `ecsV1`, but asserts HTTP 200 with a JSON body (and no `Code`) and returns the body. */
export async function okV1(
  srv: Endpoint,
  action: string,
  params: Record<string, string> = {},
  opts: V1Options = {},
): Promise<RawResponse['body']> {
  const r = await ecsV1(srv, action, params, opts);
  assert.equal(r.status, 200, `${action} ${JSON.stringify(params)} → ${r.status} ${r.text}`);
  assert.equal(typeof r.body, 'object', r.text);
  assert.equal(r.body.Code, undefined, r.text);
  assert.match(r.body.RequestId, REQUEST_ID);
  return r.body;
}

/** CreateVpc (VPC 2016-04-28) by v1; returns the VpcId. */
export async function createVpcV1(srv: Endpoint, opts: V1Options = {}): Promise<string> {
  const r = await signedV1(
    srv,
    { Action: 'CreateVpc', Version: VPC_VERSION, RegionId: REGION, CidrBlock: '192.168.0.0/16' },
    opts,
  );
  assert.equal(r.status, 200, r.text);
  assert.match(r.body.VpcId, /^vpc-[0-9a-z]+$/);
  return r.body.VpcId;
}

/** A VPC (10.0.0.0/16) with a vSwitch (10.0.1.0/24, cn-hangzhou-b), by the official SDK. */
export async function vpcWithVSwitch(
  vpc: VpcClient,
): Promise<{ vpcId: string; vSwitchId: string }> {
  const vpcId = (
    await vpc.createVpc(new $Vpc.CreateVpcRequest({ regionId: REGION, cidrBlock: '10.0.0.0/16' }))
  ).body!.vpcId!;
  const vSwitchId = (
    await vpc.createVSwitch(
      new $Vpc.CreateVSwitchRequest({
        regionId: REGION,
        vpcId,
        zoneId: 'cn-hangzhou-b',
        cidrBlock: '10.0.1.0/24',
      }),
    )
  ).body!.vSwitchId!;
  return { vpcId, vSwitchId };
}

/** CreateSecurityGroup by the official SDK (in `vpcId`, unless `extra` says otherwise). */
export async function sdkGroup(
  ecs: EcsClient,
  vpcId: string | undefined,
  extra: Partial<$Ecs.CreateSecurityGroupRequest> = {},
): Promise<string> {
  const r = await ecs.createSecurityGroup(
    new $Ecs.CreateSecurityGroupRequest({ regionId: REGION, vpcId, ...extra }),
  );
  return r.body!.securityGroupId!;
}

/** CreateNetworkInterface by the official SDK; its id and primary address. */
export async function sdkEni(
  ecs: EcsClient,
  vSwitchId: string,
  securityGroupIds: string[],
  primaryIpAddress?: string,
): Promise<{ id: string; ip: string }> {
  const r = await ecs.createNetworkInterface(
    new $Ecs.CreateNetworkInterfaceRequest({
      regionId: REGION,
      vSwitchId,
      securityGroupIds,
      primaryIpAddress,
    }),
  );
  return { id: r.body!.networkInterfaceId!, ip: r.body!.privateIpAddress! };
}

/** CreateSecurityGroup by v1 (classic unless `VpcId` is given); returns the id. */
export async function createGroupV1(
  srv: Endpoint,
  params: Record<string, string> = {},
  opts: V1Options = {},
): Promise<string> {
  const body = await okV1(srv, 'CreateSecurityGroup', params, opts);
  assert.match(body.SecurityGroupId, /^sg-[0-9a-z]+$/);
  return body.SecurityGroupId;
}

/**
 * DescribeSecurityGroupAttribute by v1; returns the Permission list after checking that
 * every Permission carries every field as a string.
 */
export async function permissionsV1(
  srv: Endpoint,
  groupId: string,
  params: Record<string, string> = {},
  opts: V1Options = {},
): Promise<Permission[]> {
  const body = await okV1(
    srv,
    'DescribeSecurityGroupAttribute',
    { SecurityGroupId: groupId, ...params },
    opts,
  );
  assert.equal(body.SecurityGroupId, groupId);
  const list = body.Permissions?.Permission;
  assert.ok(Array.isArray(list), `Permissions.Permission is an array: ${JSON.stringify(body)}`);
  for (const p of list) {
    for (const f of PERMISSION_FIELDS) {
      assert.equal(
        typeof p[f],
        'string',
        `Permission.${f} present as a string: ${JSON.stringify(p)}`,
      );
    }
  }
  return list as Permission[];
}

/** Asserts that `r` is a JSON error envelope with `code` and `status`. */
export function assertErrorEnvelope(r: RawResponse, code?: string, status?: number): void {
  assert.equal(typeof r.body, 'object', `JSON error body expected, got ${r.status} ${r.text}`);
  assert.deepEqual(Object.keys(r.body).sort(), ENVELOPE, r.text);
  for (const k of ENVELOPE) assert.equal(typeof r.body[k], 'string', `${k} in ${r.text}`);
  assert.match(r.body.RequestId, REQUEST_ID);
  if (code !== undefined) assert.equal(r.body.Code, code, r.text);
  if (status !== undefined) assert.equal(r.status, status, r.text);
}

/** Credentials of an account in an accounts file. */
export interface TestAccount extends Required<Credentials> {
  uid: string;
  name: string;
}

export function accountsFile(...accounts: TestAccount[]) {
  return {
    accounts: accounts.map((a) => ({
      uid: a.uid,
      name: a.name,
      accessKeys: [{ id: a.accessKeyId, secret: a.secret }],
    })),
  };
}
