/**
 * Terraform's alicloud provider, replayed request for request for a typical configuration:
 * a VPC, a vSwitch, two security groups with tags, five rules (CIDR and group-to-group,
 * ingress and egress, one without nic_type, one written with host bits, one a bare
 * address), a network interface with secondary addresses and tags; then a rule description
 * change, a rule priority change (a replacement), tag and resource-group changes, interface
 * changes; then destroy.
 *
 * Three wire shapes, as the provider sends them:
 * - tea-rpc (`client.RpcPost`): v1 POST, common parameters in the query (`Format=json`),
 *   business parameters, RegionId included, in a form body (spaces as `+`);
 * - the old SDK's typed requests: v1 POST, everything in the query, empty form body,
 *   `Format=JSON`, `SignatureType=` present and empty;
 * - the old SDK's `CommonRequest` (rule Modify/Revoke): v1 GET over HTTPS, everything in
 *   the query, even when the provider is configured for HTTP.
 *
 * After every step, each read returns what the provider compares against what it sent, so a
 * second plan would change nothing; destroy leaves no resource.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  ECS_VERSION,
  encodeParams,
  type RawResponse,
  rawRequest,
  VPC_VERSION,
  v1Params,
} from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { REGION } from './support.js';

let srv: TestServer;
let ca: string;
before(async () => {
  srv = await startServer();
  ca = readFileSync(srv.caFile, 'utf8');
});
after(() => srv?.stop());

type Body = Record<string, string>;
// biome-ignore lint/suspicious/noExplicitAny: the provider reads responses as untyped JSON
type Json = any;

const COMMON = new Set([
  'Action',
  'Version',
  'Format',
  'Timestamp',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'AccessKeyId',
  'Signature',
]);

function product(action: string, vpc: boolean) {
  return { Action: action, Version: vpc ? VPC_VERSION : ECS_VERSION };
}

/** Transport 1A: tea-rpc RpcPost. `query` holds the few business params sent in the URL. */
async function rpc(
  vpc: boolean,
  action: string,
  body: Body,
  query: Body = {},
): Promise<RawResponse> {
  const all = v1Params('POST', { ...product(action, vpc), ...query, ...body }, { format: 'json' });
  const q: Body = {};
  for (const [k, v] of Object.entries(all)) if (COMMON.has(k) || Object.hasOwn(query, k)) q[k] = v;
  const form = encodeParams(Object.fromEntries(Object.entries(all).filter(([k]) => !(k in q))));
  const payload = form.replaceAll('%20', '+'); // url.Values.Encode
  return rawRequest(srv, {
    method: 'POST',
    path: `/?${encodeParams(q)}`,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(payload),
      'x-acs-action': action,
      'x-acs-version': vpc ? VPC_VERSION : ECS_VERSION,
    },
    body: payload,
  });
}

/** Transport 1B: the old SDK's typed request (everything in the query, POST). */
function sdk(action: string, query: Body): Promise<RawResponse> {
  const all = v1Params(
    'POST',
    { ...product(action, false), SignatureType: '', RegionId: REGION, ...query },
    { format: 'JSON' },
  );
  return rawRequest(srv, {
    method: 'POST',
    path: `/?${encodeParams(all)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 0 },
  });
}

/** Transport 1C: the old SDK's CommonRequest: GET over HTTPS, everything in the query. */
function common(action: string, query: Body): Promise<RawResponse> {
  const all = v1Params(
    'GET',
    { ...product(action, false), SignatureType: '', RegionId: REGION, ...query },
    { format: 'JSON' },
  );
  return rawRequest(srv, { method: 'GET', path: `/?${encodeParams(all)}`, tlsCa: ca });
}

/** Asserts a success (no Code in it) and returns the body. */
async function ok(p: Promise<RawResponse>): Promise<Json> {
  const r = await p;
  assert.equal(r.status, 200, r.text);
  assert.equal(typeof r.body, 'object', r.text);
  assert.equal(r.body.Code, undefined, r.text);
  return r.body;
}

/** What the provider's NotFoundError accepts: HTTP 404 with a string Code. */
async function notFound(p: Promise<RawResponse>, code: string): Promise<void> {
  const r = await p;
  assert.equal(r.status, 404, r.text);
  assert.equal(r.body.Code, code, r.text);
  for (const k of ['Code', 'Message', 'RequestId', 'HostId', 'Recommend']) {
    assert.equal(typeof r.body[k], 'string', `${k} is a string (the old SDK asserts it)`);
  }
}

const clientToken = (action: string) =>
  `TF-${action}-${Math.floor(Date.now() / 1000)}-${randomUUID()}`.slice(0, 64);

const tagBody = (tags: Record<string, string>): Body => {
  const out: Body = {};
  Object.entries(tags).forEach(([k, v], i) => {
    out[`Tag.${i + 1}.Key`] = k;
    out[`Tag.${i + 1}.Value`] = v;
  });
  return out;
};

/** tagsToMap: `{TagKey,TagValue}` or `{Key,Value}` items; the key is type-asserted. */
function tagsToMap(tags: Json): Record<string, string> {
  assert.ok(Array.isArray(tags?.Tag), `Tags.Tag is an array: ${JSON.stringify(tags)}`);
  const out: Record<string, string> = {};
  for (const t of tags.Tag) {
    const key = t.TagKey ?? t.Key;
    assert.equal(typeof key, 'string');
    out[key] = String(t.TagValue ?? t.Value);
  }
  return out;
}

/** The provider's SetResourceTags: UnTag removed or re-valued keys, then Tag every tag. */
async function setTags(
  vpc: boolean,
  type: string,
  id: string,
  old: Record<string, string>,
  now: Record<string, string>,
): Promise<void> {
  const removed = Object.keys(old).filter((k) => !(k in now) || now[k] !== old[k]);
  if (removed.length > 0) {
    const keys: Body = {};
    removed.forEach((k, i) => {
      keys[`TagKey.${i + 1}`] = k;
    });
    await ok(
      rpc(vpc, vpc ? 'UnTagResources' : 'UntagResources', {
        'ResourceId.1': id,
        RegionId: REGION,
        ResourceType: type,
        ...keys,
      }),
    );
  }
  if (Object.keys(now).length > 0) {
    await ok(
      rpc(vpc, 'TagResources', {
        'ResourceId.1': id,
        RegionId: REGION,
        ResourceType: type,
        ...tagBody(now),
      }),
    );
  }
}

/** compressIPv6OrCIDR: IPv4 and host bits as written; IPv6 compressed. */
function providerCidr(v: string): string {
  if (!v.includes(':')) return v;
  const [addr, p] = v.split('/');
  const host = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  return p === undefined ? host : `${host}/${p}`;
}

interface TfRule {
  type: 'ingress' | 'egress';
  ip_protocol: string;
  port_range: string;
  policy: 'accept' | 'drop';
  priority: number;
  nic_type?: 'intranet';
  cidr_ip?: string;
  source_security_group_id?: string;
  description?: string;
}

/** The rule's resource id, as Create builds it: `%v` of a missing NicType prints `<nil>`. */
function ruleId(groupId: string, r: TfRule): string {
  const cidr = r.cidr_ip ?? r.source_security_group_id!;
  return [
    groupId,
    r.type,
    r.ip_protocol,
    r.port_range,
    r.nic_type ?? '<nil>',
    cidr,
    r.policy,
    r.priority,
  ].join(':');
}

/** Read: DescribeSecurityGroupAttribute (1B) with Direction and NicType from the id, then the match. */
async function readRule(id: string): Promise<Json | undefined> {
  const [groupId, direction, proto, ports, nic, cidrPart, policy, priority] = id.split(':');
  const body = await ok(
    sdk('DescribeSecurityGroupAttribute', {
      SecurityGroupId: groupId!,
      Direction: direction!,
      NicType: nic!,
    }),
  );
  assert.equal(body.SecurityGroupId, groupId);
  const cidr = providerCidr(cidrPart!);
  const ingress = direction === 'ingress';
  return body.Permissions.Permission.find((ru: Json) => {
    if (ru.IpProtocol.toLowerCase() !== proto || ru.PortRange !== ports) return false;
    const far = ingress
      ? ru.SourceCidrIp || ru.SourceGroupId || ru.Ipv6SourceCidrIp
      : ru.DestCidrIp || ru.DestGroupId || ru.Ipv6DestCidrIp;
    const prefix = ingress ? ru.SourcePrefixListId : ru.DestPrefixListId;
    return (
      (far === cidr || prefix === cidr) &&
      ru.Policy.toLowerCase() === policy &&
      ru.Priority === String(Number(priority))
    );
  });
}

/** The state a Read writes must equal the configuration (ForceNew fields), so no new plan. */
async function assertRuleState(groupId: string, r: TfRule): Promise<Json> {
  const found = await readRule(ruleId(groupId, r));
  assert.ok(found, `the provider finds ${ruleId(groupId, r)}`);
  assert.equal(found.Direction, r.type);
  assert.equal(found.IpProtocol.toLowerCase(), r.ip_protocol);
  assert.equal(found.PortRange, r.port_range);
  assert.equal(found.Policy.toLowerCase(), r.policy);
  assert.equal(Number.parseInt(found.Priority, 10), r.priority);
  if (r.nic_type !== undefined) assert.equal(found.NicType, r.nic_type);
  assert.equal(found.Description, r.description ?? '');
  const ingress = r.type === 'ingress';
  assert.equal(ingress ? found.SourceCidrIp : found.DestCidrIp, r.cidr_ip ?? '');
  assert.equal(ingress ? found.SourceGroupId : found.DestGroupId, r.source_security_group_id ?? '');
  // source_group_owner_id is read from *GroupOwnerAccount: empty within one account
  assert.equal(ingress ? found.SourceGroupOwnerAccount : found.DestGroupOwnerAccount, '');
  assert.equal(ingress ? found.Ipv6SourceCidrIp : found.Ipv6DestCidrIp, '');
  assert.equal(ingress ? found.SourcePrefixListId : found.DestPrefixListId, '');
  return found;
}

/** Create: the VPC check (1B), Authorize (1A, Permissions.1.*), then Read. */
async function createRule(groupId: string, r: TfRule): Promise<string> {
  const g = await ok(sdk('DescribeSecurityGroupAttribute', { SecurityGroupId: groupId }));
  assert.equal(g.SecurityGroupId, groupId);
  const ingress = r.type === 'ingress';
  const perm: Body = {
    'Permissions.1.IpProtocol': r.ip_protocol,
    'Permissions.1.PortRange': r.port_range,
    'Permissions.1.Policy': r.policy,
    'Permissions.1.Priority': String(r.priority),
  };
  if (r.cidr_ip !== undefined)
    perm[`Permissions.1.${ingress ? 'Source' : 'Dest'}CidrIp`] = r.cidr_ip;
  if (r.source_security_group_id !== undefined) {
    perm[`Permissions.1.${ingress ? 'Source' : 'Dest'}GroupId`] = r.source_security_group_id;
  }
  if (r.nic_type !== undefined) perm['Permissions.1.NicType'] = r.nic_type;
  if (r.description) perm['Permissions.1.Description'] = r.description;
  await ok(
    rpc(false, `AuthorizeSecurityGroup${ingress ? '' : 'Egress'}`, {
      RegionId: REGION,
      SecurityGroupId: groupId,
      ...perm,
    }),
  );
  await assertRuleState(groupId, r);
  return ruleId(groupId, r);
}

/** The flat parameters buildAliyunSGRuleRequest sends (Modify and Revoke, 1C). */
function flat(groupId: string, r: TfRule, state: Json, description: string): Body {
  const ingress = r.type === 'ingress';
  const out: Body = {
    PortRange: r.port_range,
    IpProtocol: r.ip_protocol,
    Policy: r.policy,
    Priority: String(r.priority),
    SecurityGroupId: groupId,
    Description: description,
  };
  if (r.cidr_ip !== undefined)
    out[ingress ? 'SourceCidrIp' : 'DestCidrIp'] = state[ingress ? 'SourceCidrIp' : 'DestCidrIp'];
  if (r.source_security_group_id !== undefined) {
    out[ingress ? 'SourceGroupId' : 'DestGroupId'] = r.source_security_group_id;
  }
  // nic_type is Computed: whatever Read stored is sent, even when never configured
  if (state.NicType) out.NicType = state.NicType;
  return out;
}

async function deleteRule(groupId: string, r: TfRule): Promise<void> {
  const state = await assertRuleState(groupId, r);
  await ok(sdk('DescribeSecurityGroupAttribute', { SecurityGroupId: groupId }));
  const params = flat(groupId, r, state, state.Description);
  const action = `RevokeSecurityGroup${r.type === 'ingress' ? '' : 'Egress'}`;
  await ok(common(action, params));
  assert.equal(await readRule(ruleId(groupId, r)), undefined, 'gone');
  // a retried revoke that matches nothing is a success (an error here means 5 minutes of retries)
  await ok(common(action, params));
}

describe('Terraform life cycle, request for request', () => {
  const vpcTagsCfg = { env: 'test', team: 'net' };
  const sgTagsCfg = { env: 'test', app: 'web server' };
  const eniTagsCfg = { role: 'db' };
  let vpcId = '';
  let vswId = '';
  let sg = '';
  let peer = '';
  let eni = '';
  const rules: TfRule[] = [];

  test('alicloud_vpc: create, wait Available, system route table, tags twice, read', async () => {
    const created = await ok(
      rpc(true, 'CreateVpc', {
        RegionId: REGION,
        ClientToken: clientToken('CreateVpc'),
        CidrBlock: '172.16.0.0/16',
        VpcName: 'tf-vpc',
        Description: 'managed by terraform',
        ...tagBody(vpcTagsCfg),
      }),
    );
    vpcId = String(created.VpcId);
    assert.match(vpcId, /^vpc-/);
    const attr = await ok(rpc(true, 'DescribeVpcAttribute', { VpcId: vpcId, RegionId: REGION }));
    assert.equal(String(attr.Status), 'Available');
    const tables = await ok(
      rpc(true, 'DescribeRouteTableList', { VpcId: vpcId, RegionId: REGION }),
    );
    const system = tables.RouterTableList.RouterTableListType.find(
      (t: Json) => String(t.RouteTableType) === 'System' && String(t.VpcId) === vpcId,
    );
    assert.ok(system, 'the VPC has its system route table');
    assert.match(system.RouteTableId, /^vtb-/);
    assert.equal(typeof system.RoutePropagationEnable, 'boolean');
    await setTags(true, 'VPC', vpcId, {}, vpcTagsCfg); // sent on create too: must be idempotent
    await readVpc('');
  });

  async function readVpc(resourceGroupId: string, tags: Record<string, string> = vpcTagsCfg) {
    const v = await ok(rpc(true, 'DescribeVpcAttribute', { VpcId: vpcId, RegionId: REGION }));
    assert.equal(v.VpcId, vpcId);
    assert.equal(v.CidrBlock, '172.16.0.0/16');
    assert.equal(v.VpcName, 'tf-vpc');
    assert.equal(v.Description, 'managed by terraform');
    for (const b of ['ClassicLinkEnabled', 'EnabledIpv6', 'IsDefault'] as const) {
      assert.equal(v[b], false, b);
    }
    assert.equal(v.DnsHostnameStatus, 'DISABLED');
    assert.ok(Array.isArray(v.Ipv6CidrBlocks.Ipv6CidrBlock));
    assert.ok(Array.isArray(v.SecondaryCidrBlocks.SecondaryCidrBlock));
    assert.ok(Array.isArray(v.UserCidrs.UserCidr));
    assert.deepEqual(tagsToMap(v.Tags), tags);
    const tables = await ok(
      rpc(true, 'DescribeRouteTableList', { VpcId: vpcId, RegionId: REGION }),
    );
    const [t] = tables.RouterTableList.RouterTableListType;
    assert.equal(
      t.ResourceGroupId,
      resourceGroupId,
      'resource_group_id is read from the route table',
    );
    assert.equal(t.RouterId, v.VRouterId);
  }

  test('alicloud_vswitch: create, wait (VSwitchId in the query), tags, read', async () => {
    const created = await ok(
      rpc(true, 'CreateVSwitch', {
        RegionId: REGION,
        ClientToken: clientToken('CreateVSwitch'),
        CidrBlock: '172.16.1.0/24',
        VpcId: vpcId,
        VSwitchName: 'tf-vsw',
        ZoneId: 'cn-hangzhou-h',
      }),
    );
    vswId = String(created.VSwitchId);
    await setTags(true, 'VSWITCH', vswId, {}, { tier: 'app' });
    await readVSwitch({ tier: 'app' });
  });

  async function readVSwitch(tags: Record<string, string>) {
    const v = await ok(
      rpc(true, 'DescribeVSwitchAttributes', { RegionId: REGION }, { VSwitchId: vswId }),
    );
    assert.equal(v.VSwitchId, vswId);
    assert.equal(String(v.Status), 'Available');
    assert.equal(v.CidrBlock, '172.16.1.0/24');
    assert.equal(v.VpcId, vpcId);
    assert.equal(v.ZoneId, 'cn-hangzhou-h');
    assert.equal(v.VSwitchName, 'tf-vsw');
    assert.equal(v.Ipv6CidrBlock, '', 'present and empty (enable_ipv6 reads it)');
    assert.equal(v.IsDefault, false);
    assert.deepEqual(tagsToMap(v.Tags), tags);
  }

  test('alicloud_security_group x2: create with tags, policy, read', async () => {
    for (const name of ['tf-sg', 'tf-peer']) {
      const created = await ok(
        rpc(false, 'CreateSecurityGroup', {
          RegionId: REGION,
          ClientToken: clientToken('CreateSecurityGroup'),
          VpcId: vpcId,
          SecurityGroupName: name,
          Description: 'managed by terraform',
          ...tagBody(sgTagsCfg),
        }),
      );
      const id = String(created.SecurityGroupId);
      await ok(
        rpc(false, 'DescribeSecurityGroupAttribute', { SecurityGroupId: id, RegionId: REGION }),
      );
      await ok(
        rpc(false, 'ModifySecurityGroupPolicy', {
          SecurityGroupId: id,
          RegionId: REGION,
          ClientToken: clientToken('ModifySecurityGroupPolicy'),
          InnerAccessPolicy: 'Accept',
        }),
      );
      if (name === 'tf-sg') sg = id;
      else peer = id;
      await readGroup(id, name, '', sgTagsCfg);
    }
  });

  async function readGroup(
    id: string,
    name: string,
    resourceGroupId: string,
    tags: Record<string, string>,
  ) {
    const list = await ok(
      rpc(false, 'DescribeSecurityGroups', { SecurityGroupId: id, RegionId: REGION }),
    );
    const [g] = list.SecurityGroups.SecurityGroup;
    assert.equal(list.SecurityGroups.SecurityGroup.length, 1, 'filtered by SecurityGroupId');
    assert.equal(g.SecurityGroupId, id);
    assert.equal(g.SecurityGroupName, name);
    assert.equal(g.Description, 'managed by terraform');
    assert.equal(g.VpcId, vpcId);
    assert.equal(g.SecurityGroupType, 'normal');
    assert.equal(g.ResourceGroupId, resourceGroupId);
    assert.deepEqual(tagsToMap(g.Tags), tags);
    const attr = await ok(
      rpc(false, 'DescribeSecurityGroupAttribute', { SecurityGroupId: id, RegionId: REGION }),
    );
    assert.equal(attr.InnerAccessPolicy, 'Accept');
  }

  test('alicloud_security_group_rule x5: Authorize, found back by value', async () => {
    rules.push(
      {
        type: 'ingress',
        ip_protocol: 'tcp',
        port_range: '22/22',
        policy: 'accept',
        priority: 1,
        nic_type: 'intranet',
        cidr_ip: '10.0.0.0/8',
        description: 'ssh',
      },
      {
        type: 'ingress',
        ip_protocol: 'tcp',
        port_range: '5432/5432',
        policy: 'accept',
        priority: 1,
        nic_type: 'intranet',
        source_security_group_id: peer,
      },
      {
        type: 'egress',
        ip_protocol: 'udp',
        port_range: '53/53',
        policy: 'accept',
        priority: 10,
        nic_type: 'intranet',
        cidr_ip: '1.2.3.4',
        description: 'dns',
      },
      {
        type: 'egress',
        ip_protocol: 'all',
        port_range: '-1/-1',
        policy: 'drop',
        priority: 100,
        source_security_group_id: peer,
      },
      // no nic_type, a CIDR with host bits: the id carries <nil>, the read sends NicType=<nil>
      {
        type: 'ingress',
        ip_protocol: 'tcp',
        port_range: '80/80',
        policy: 'accept',
        priority: 5,
        cidr_ip: '10.159.6.18/12',
      },
    );
    for (const r of rules) await createRule(sg, r);
    // a second plan: every rule found again, unchanged
    for (const r of rules) await assertRuleState(sg, r);
    // the same rule written with its network is a duplicate, not a second rule
    const dup = await rpc(false, 'AuthorizeSecurityGroup', {
      RegionId: REGION,
      SecurityGroupId: sg,
      'Permissions.1.IpProtocol': 'tcp',
      'Permissions.1.PortRange': '80/80',
      'Permissions.1.Policy': 'accept',
      'Permissions.1.Priority': '5',
      'Permissions.1.SourceCidrIp': '10.144.0.0/12',
    });
    assert.equal(dup.status, 400, dup.text);
    assert.equal(dup.body.Code, 'InvalidPermission.Duplicate');
  });

  test('alicloud_ecs_network_interface: create with secondary addresses and tags, wait, read', async () => {
    const created = await ok(
      rpc(false, 'CreateNetworkInterface', {
        RegionId: REGION,
        VSwitchId: vswId,
        NetworkInterfaceName: 'tf-eni',
        Description: 'managed by terraform',
        'PrivateIpAddress.1': '172.16.1.20',
        'PrivateIpAddress.2': '172.16.1.21',
        'SecurityGroupIds.1': sg,
        ...tagBody(eniTagsCfg),
      }),
    );
    eni = String(created.NetworkInterfaceId);
    await readEni([sg], ['172.16.1.20', '172.16.1.21'], eniTagsCfg, 'tf-eni');
  });

  async function readEni(
    groups: string[],
    secondaries: string[],
    tags: Record<string, string>,
    name: string,
  ) {
    const body = await ok(
      rpc(false, 'DescribeNetworkInterfaces', { RegionId: REGION, 'NetworkInterfaceId.1': eni }),
    );
    const sets = body.NetworkInterfaceSets.NetworkInterfaceSet;
    assert.equal(sets.length, 1);
    const o = sets[0];
    assert.equal(o.NetworkInterfaceId, eni);
    assert.equal(String(o.Status), 'Available');
    // the provider's type assertions, each of which panics when the shape is wrong
    assert.ok(Array.isArray(o.PrivateIpSets.PrivateIpSet));
    for (const ip of o.PrivateIpSets.PrivateIpSet) assert.equal(typeof ip.Primary, 'boolean');
    assert.ok(Array.isArray(o.Ipv6Sets.Ipv6Set));
    assert.ok(Array.isArray(o.Ipv4PrefixSets.Ipv4PrefixSet));
    assert.equal(typeof o.QueueNumber, 'number');
    assert.deepEqual(o.SecurityGroupIds.SecurityGroupId, groups);
    assert.equal(o.ResourceGroupId, '', 'ForceNew: nothing the configuration does not name');
    assert.equal(o.NetworkInterfaceName, name);
    assert.equal(typeof o.SourceDestCheck, 'boolean');
    assert.equal(typeof o.DeleteOnRelease, 'boolean');
    const primary = o.PrivateIpSets.PrivateIpSet.filter((x: Json) => x.Primary);
    assert.equal(primary.length, 1);
    assert.equal(primary[0].PrivateIpAddress, o.PrivateIpAddress);
    assert.deepEqual(
      o.PrivateIpSets.PrivateIpSet.filter((x: Json) => !x.Primary).map(
        (x: Json) => x.PrivateIpAddress,
      ),
      secondaries,
    );
    const t = await ok(
      rpc(false, 'ListTagResources', {
        RegionId: REGION,
        ResourceType: 'eni',
        'ResourceId.1': eni,
      }),
    );
    assert.ok(Array.isArray(t.TagResources.TagResource), 'TagResources.TagResource must exist');
    assert.deepEqual(
      Object.fromEntries(t.TagResources.TagResource.map((x: Json) => [x.TagKey, x.TagValue])),
      tags,
    );
  }

  test('a rule description change: ModifySecurityGroupRule twice, by definition, over HTTPS', async () => {
    for (const i of [0, 2]) {
      const r = rules[i]!;
      const state = await assertRuleState(sg, r);
      await ok(sdk('DescribeSecurityGroupAttribute', { SecurityGroupId: sg }));
      const action = `ModifySecurityGroup${r.type === 'ingress' ? '' : 'Egress'}Rule`;
      const params = flat(sg, r, state, `${r.description} (changed)`);
      await common(action, params); // the first answer is thrown away
      await ok(common(action, params));
      rules[i] = { ...r, description: `${r.description} (changed)` };
      await assertRuleState(sg, rules[i]!);
    }
    // the rule without nic_type: Modify sends the NicType Read stored
    const r = rules[4]!;
    const state = await assertRuleState(sg, r);
    assert.equal(state.NicType, 'intranet');
    await ok(common('ModifySecurityGroupRule', flat(sg, r, state, 'web')));
    rules[4] = { ...r, description: 'web' };
    await assertRuleState(sg, rules[4]!);
    // and back to no description: an empty Description clears it
    const again = await assertRuleState(sg, rules[4]!);
    await ok(common('ModifySecurityGroupRule', flat(sg, rules[4]!, again, '')));
    rules[4] = { ...rules[4]!, description: undefined };
    await assertRuleState(sg, rules[4]!);
  });

  test('a rule priority change: a replacement (Revoke over HTTPS, then Authorize)', async () => {
    const old = rules[4]!;
    await deleteRule(sg, old);
    const changed = { ...old, priority: 7 };
    await createRule(sg, changed);
    rules[4] = changed;
    for (const r of rules) await assertRuleState(sg, r);
  });

  test('tag and resource group changes (security group, VPC, vSwitch)', async () => {
    const sgTags = { env: 'prod', app: 'web server', owner: 'ops' };
    await setTags(false, 'securitygroup', sg, sgTagsCfg, sgTags);
    await ok(
      rpc(false, 'JoinResourceGroup', {
        ResourceId: sg,
        RegionId: REGION,
        ResourceType: 'securitygroup',
        ResourceGroupId: 'rg-aek2abcdef0123',
      }),
    );
    await readGroup(sg, 'tf-sg', 'rg-aek2abcdef0123', sgTags);

    const vpcTags = { env: 'prod' };
    await setTags(true, 'VPC', vpcId, vpcTagsCfg, vpcTags);
    await ok(
      rpc(true, 'MoveResourceGroup', {
        ResourceId: vpcId,
        RegionId: REGION,
        NewResourceGroupId: 'rg-aek2abcdef0123',
        ResourceType: 'VPC',
      }),
    );
    await readVpc('rg-aek2abcdef0123', vpcTags);

    await setTags(true, 'VSWITCH', vswId, { tier: 'app' }, {});
    const untag = await ok(
      rpc(true, 'UnTagResources', {
        'ResourceId.1': vswId,
        RegionId: REGION,
        ResourceType: 'VSWITCH',
        All: 'true',
      }),
    );
    assert.ok(untag.RequestId);
    await readVSwitch({});
  });

  test('interface changes: tags, groups and name, secondary addresses', async () => {
    await setTags(false, 'eni', eni, eniTagsCfg, { role: 'cache' });
    await ok(
      rpc(false, 'ModifyNetworkInterfaceAttribute', {
        NetworkInterfaceId: eni,
        RegionId: REGION,
        NetworkInterfaceName: 'tf-eni-2',
        'SecurityGroupId.1': sg,
        'SecurityGroupId.2': peer,
      }),
    );
    await ok(
      rpc(false, 'UnassignPrivateIpAddresses', {
        NetworkInterfaceId: eni,
        RegionId: REGION,
        'PrivateIpAddress.1': '172.16.1.20',
      }),
    );
    const assigned = await ok(
      rpc(false, 'AssignPrivateIpAddresses', {
        NetworkInterfaceId: eni,
        RegionId: REGION,
        'PrivateIpAddress.1': '172.16.1.30',
      }),
    );
    assert.deepEqual(assigned.AssignedPrivateIpAddressesSet.PrivateIpSet.PrivateIpAddress, [
      '172.16.1.30',
    ]);
    // WaitForPrivateIpsListChanged reads with the old SDK (1B)
    const polled = await ok(sdk('DescribeNetworkInterfaces', { 'NetworkInterfaceId.1': eni }));
    assert.deepEqual(
      polled.NetworkInterfaceSets.NetworkInterfaceSet[0].PrivateIpSets.PrivateIpSet.filter(
        (x: Json) => !x.Primary,
      ).map((x: Json) => x.PrivateIpAddress),
      ['172.16.1.21', '172.16.1.30'],
    );
    await readEni([sg, peer], ['172.16.1.21', '172.16.1.30'], { role: 'cache' }, 'tf-eni-2');
  });

  test('destroy: rules, interface, groups, vSwitch, VPC; nothing is left', async () => {
    for (const r of rules) await deleteRule(sg, r);
    await ok(sdk('DescribeSecurityGroupAttribute', { SecurityGroupId: sg }));

    await ok(rpc(false, 'DeleteNetworkInterface', { NetworkInterfaceId: eni, RegionId: REGION }));
    const gone = await ok(
      rpc(false, 'DescribeNetworkInterfaces', { RegionId: REGION, 'NetworkInterfaceId.1': eni }),
    );
    assert.deepEqual(gone.NetworkInterfaceSets.NetworkInterfaceSet, []);
    await notFound(
      rpc(false, 'DeleteNetworkInterface', { NetworkInterfaceId: eni, RegionId: REGION }),
      'InvalidEniId.NotFound',
    );

    for (const id of [sg, peer]) {
      await ok(rpc(false, 'DeleteSecurityGroup', { SecurityGroupId: id, RegionId: REGION }));
      await notFound(
        rpc(false, 'DeleteSecurityGroup', { SecurityGroupId: id, RegionId: REGION }),
        'InvalidSecurityGroupId.NotFound',
      );
    }

    // the VPC cannot go while the vSwitch is there: the provider retries DependencyViolation
    const early = await rpc(true, 'DeleteVpc', {
      VpcId: vpcId,
      RegionId: REGION,
      ClientToken: clientToken('DeleteVpc'),
    });
    assert.equal(early.status, 400, early.text);
    assert.match(early.body.Code, /^DependencyViolation/);

    await ok(rpc(true, 'DeleteVSwitch', { VSwitchId: vswId, RegionId: REGION }));
    await notFound(
      rpc(true, 'DescribeVSwitchAttributes', { RegionId: REGION }, { VSwitchId: vswId }),
      'InvalidVSwitchId.NotFound',
    );
    await ok(
      rpc(true, 'DeleteVpc', {
        VpcId: vpcId,
        RegionId: REGION,
        ClientToken: clientToken('DeleteVpc'),
      }),
    );
    await notFound(
      rpc(true, 'DescribeVpcAttribute', { VpcId: vpcId, RegionId: REGION }),
      'InvalidVpcId.NotFound',
    );

    const vpcs = await ok(rpc(true, 'DescribeVpcs', { RegionId: REGION }));
    assert.equal(vpcs.TotalCount, 0);
    const vsws = await ok(rpc(true, 'DescribeVSwitches', { RegionId: REGION }));
    assert.equal(vsws.TotalCount, 0);
    const groups = await ok(rpc(false, 'DescribeSecurityGroups', { RegionId: REGION }));
    assert.equal(groups.TotalCount, 0);
    const enis = await ok(rpc(false, 'DescribeNetworkInterfaces', { RegionId: REGION }));
    assert.equal(enis.TotalCount, 0);
  });
});
