/**
 * The Terraform provider's life cycle of `alicloud_security_group` / `alicloud_security_group_rule`,
 * replayed with its wire shape: v1 signatures, POST, common params in the query and business
 * params in an `application/x-www-form-urlencoded` body.
 *
 * create VPC → create group → Authorize (`Permissions.1.*`) → find the rule the way the provider
 * does (WIRE.md) → ModifySecurityGroup[Egress]Rule by SecurityGroupRuleId → find again →
 * Revoke by the flat parameters, twice (the second is a success that changes nothing) →
 * DeleteSecurityGroup → DeleteVpc.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RawResponse, signedV1, type V1Options, VPC_VERSION } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  assertErrorEnvelope,
  createGroupV1,
  createVpcV1,
  ecsV1,
  okV1,
  type Permission,
  permissionsV1,
  REGION,
} from './support.js';

const FORM: V1Options = { method: 'POST', form: true };

let srv: TestServer;
let vpcId: string;
let peerGroup: string;

before(async () => {
  srv = await startServer();
  vpcId = await createVpcV1(srv, FORM);
  peerGroup = await createGroupV1(
    srv,
    { VpcId: vpcId, SecurityGroupName: 'tf-peer', Description: 'peer group' },
    FORM,
  );
});
after(() => srv?.stop());

/** A rule as the provider's schema has it. */
interface TfRule {
  type: 'ingress' | 'egress';
  ip_protocol: string;
  port_range: string;
  nic_type: 'intranet';
  policy: 'accept' | 'drop';
  priority: number;
  cidr_ip?: string;
  ipv6_cidr_ip?: string;
  source_security_group_id?: string;
  description?: string;
}

/** The permission params of a rule, under the names of its direction. */
function ruleParams(r: TfRule): Record<string, string> {
  const ingress = r.type === 'ingress';
  const out: Record<string, string> = {
    IpProtocol: r.ip_protocol,
    PortRange: r.port_range,
    NicType: r.nic_type,
    Policy: r.policy,
    Priority: String(r.priority),
  };
  if (r.cidr_ip !== undefined) out[ingress ? 'SourceCidrIp' : 'DestCidrIp'] = r.cidr_ip;
  if (r.ipv6_cidr_ip !== undefined) {
    out[ingress ? 'Ipv6SourceCidrIp' : 'Ipv6DestCidrIp'] = r.ipv6_cidr_ip;
  }
  if (r.source_security_group_id !== undefined) {
    out[ingress ? 'SourceGroupId' : 'DestGroupId'] = r.source_security_group_id;
  }
  if (r.description !== undefined) out.Description = r.description;
  return out;
}

/** The provider's find: Direction + NicType read, then match on protocol, ports, far end, policy, priority. */
async function tfFind(groupId: string, r: TfRule): Promise<Permission[]> {
  const perms = await permissionsV1(srv, groupId, { Direction: r.type, NicType: r.nic_type }, FORM);
  const ingress = r.type === 'ingress';
  return perms.filter(
    (p) =>
      p.IpProtocol.toLowerCase() === r.ip_protocol &&
      p.PortRange === r.port_range &&
      (r.cidr_ip === undefined || (ingress ? p.SourceCidrIp : p.DestCidrIp) === r.cidr_ip) &&
      (r.ipv6_cidr_ip === undefined ||
        (ingress ? p.Ipv6SourceCidrIp : p.Ipv6DestCidrIp) === r.ipv6_cidr_ip) &&
      (r.source_security_group_id === undefined ||
        (ingress ? p.SourceGroupId : p.DestGroupId) === r.source_security_group_id) &&
      p.Policy.toLowerCase() === r.policy &&
      p.Priority === String(r.priority),
  );
}

function form(action: string, params: Record<string, string>): Promise<RawResponse> {
  return ecsV1(srv, action, params, FORM);
}

const CASES: { name: string; rule: () => TfRule; modifyAll?: boolean }[] = [
  {
    name: 'ingress, IPv4 CIDR',
    rule: () => ({
      type: 'ingress',
      ip_protocol: 'tcp',
      port_range: '22/22',
      nic_type: 'intranet',
      policy: 'accept',
      priority: 1,
      cidr_ip: '10.0.0.0/8',
      description: 'ssh from the office',
    }),
  },
  {
    name: 'egress, IPv4 CIDR (modify with the whole definition)',
    modifyAll: true,
    rule: () => ({
      type: 'egress',
      ip_protocol: 'udp',
      port_range: '53/53',
      nic_type: 'intranet',
      policy: 'drop',
      priority: 3,
      cidr_ip: '8.8.8.8/32',
    }),
  },
  {
    name: 'ingress, IPv6 CIDR',
    rule: () => ({
      type: 'ingress',
      ip_protocol: 'tcp',
      port_range: '443/443',
      nic_type: 'intranet',
      policy: 'accept',
      priority: 10,
      ipv6_cidr_ip: '2001:db8::/32',
    }),
  },
  {
    name: 'ingress, source security group',
    rule: () => ({
      type: 'ingress',
      ip_protocol: 'all',
      port_range: '-1/-1',
      nic_type: 'intranet',
      policy: 'accept',
      priority: 1,
      source_security_group_id: peerGroup,
    }),
  },
  {
    name: 'egress, destination security group (modify with the whole definition)',
    modifyAll: true,
    rule: () => ({
      type: 'egress',
      ip_protocol: 'tcp',
      port_range: '1/65535',
      nic_type: 'intranet',
      policy: 'accept',
      priority: 100,
      source_security_group_id: peerGroup,
    }),
  },
];

describe('Terraform provider sequence (v1, POST form body)', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const rule = c.rule();
      const ingress = rule.type === 'ingress';
      const suffix = ingress ? '' : 'Egress';

      const groupId = await createGroupV1(
        srv,
        { RegionId: REGION, VpcId: vpcId, SecurityGroupName: 'tf-sg', Description: 'terraform' },
        FORM,
      );
      const groups = await okV1(srv, 'DescribeSecurityGroups', { SecurityGroupId: groupId }, FORM);
      assert.equal(groups.SecurityGroups.SecurityGroup.length, 1);
      assert.equal(groups.SecurityGroups.SecurityGroup[0].VpcId, vpcId);

      // Create: Permissions.1.*
      const perm = Object.fromEntries(
        Object.entries(ruleParams(rule)).map(([k, v]) => [`Permissions.1.${k}`, v]),
      );
      await okV1(
        srv,
        `AuthorizeSecurityGroup${suffix}`,
        { SecurityGroupId: groupId, ...perm },
        FORM,
      );

      // Read: exactly one match, with the provider's exact strings.
      const found = await tfFind(groupId, rule);
      assert.equal(found.length, 1, 'the provider finds its rule');
      const created = found[0]!;
      assert.equal(created.Direction, rule.type);
      assert.equal(created.IpProtocol, rule.ip_protocol.toUpperCase());
      assert.equal(created.Policy, rule.policy === 'accept' ? 'Accept' : 'Drop');
      assert.equal(created.Priority, String(rule.priority));
      assert.equal(created.NicType, 'intranet');
      assert.equal(created.Description, rule.description ?? '');
      assert.match(created.SecurityGroupRuleId, /^sgr-[0-9a-z]+$/);
      assert.equal((await permissionsV1(srv, groupId, {}, FORM)).length, 1);

      // Update: description and priority, by SecurityGroupRuleId.
      const updated: TfRule = {
        ...rule,
        priority: rule.priority === 100 ? 99 : rule.priority + 1,
        description: `changed by terraform (${c.name})`,
      };
      const change: Record<string, string> = c.modifyAll
        ? ruleParams(updated)
        : { Description: updated.description!, Priority: String(updated.priority) };
      await okV1(
        srv,
        `ModifySecurityGroup${suffix}Rule`,
        { SecurityGroupId: groupId, SecurityGroupRuleId: created.SecurityGroupRuleId, ...change },
        FORM,
      );
      assert.equal((await tfFind(groupId, rule)).length, 0, 'the old priority no longer matches');
      const after = await tfFind(groupId, updated);
      assert.equal(after.length, 1, 'the provider finds the modified rule');
      const m = after[0]!;
      assert.equal(m.SecurityGroupRuleId, created.SecurityGroupRuleId, 'same rule id');
      assert.equal(m.Priority, String(updated.priority));
      assert.equal(m.Description, updated.description);
      assert.equal(m.CreateTime, created.CreateTime);
      for (const k of [
        'Direction',
        'IpProtocol',
        'PortRange',
        'SourcePortRange',
        'Policy',
        'NicType',
        'SourceCidrIp',
        'DestCidrIp',
        'Ipv6SourceCidrIp',
        'Ipv6DestCidrIp',
        'SourceGroupId',
        'DestGroupId',
      ] as const) {
        assert.equal(m[k], created[k], `${k} unchanged by the modify`);
      }
      assert.equal((await permissionsV1(srv, groupId, {}, FORM)).length, 1);

      // Delete: revoke by the flat parameters (the provider's state), twice.
      const flat: Record<string, string> = { SecurityGroupId: groupId, ...ruleParams(updated) };
      delete flat.Description;
      await okV1(srv, `RevokeSecurityGroup${suffix}`, flat, FORM);
      assert.equal((await tfFind(groupId, updated)).length, 0);
      assert.equal((await permissionsV1(srv, groupId, {}, FORM)).length, 0);
      const second = await form(`RevokeSecurityGroup${suffix}`, flat);
      assert.equal(second.status, 200, `the second revoke is a success no-op: ${second.text}`);
      assert.equal((await permissionsV1(srv, groupId, {}, FORM)).length, 0);

      await okV1(srv, 'DeleteSecurityGroup', { SecurityGroupId: groupId }, FORM);
      assertErrorEnvelope(
        await form('DescribeSecurityGroupAttribute', { SecurityGroupId: groupId }),
        'InvalidSecurityGroupId.NotFound',
        404,
      );
      // The provider's delete retries on anything but not-found: a repeat must say not-found.
      assertErrorEnvelope(
        await form('DeleteSecurityGroup', { SecurityGroupId: groupId }),
        'InvalidSecurityGroupId.NotFound',
        404,
      );
    });
  }

  test('revoking with another priority or description still removes the rule (not identity)', async () => {
    const groupId = await createGroupV1(srv, { VpcId: vpcId }, FORM);
    await okV1(
      srv,
      'AuthorizeSecurityGroup',
      {
        SecurityGroupId: groupId,
        'Permissions.1.IpProtocol': 'tcp',
        'Permissions.1.PortRange': '80/80',
        'Permissions.1.SourceCidrIp': '0.0.0.0/0',
        'Permissions.1.Priority': '7',
        'Permissions.1.Description': 'web',
      },
      FORM,
    );
    await okV1(
      srv,
      'RevokeSecurityGroup',
      {
        SecurityGroupId: groupId,
        IpProtocol: 'tcp',
        PortRange: '80/80',
        SourceCidrIp: '0.0.0.0/0',
        NicType: 'intranet',
        Policy: 'accept',
        Priority: '1',
      },
      FORM,
    );
    assert.equal((await permissionsV1(srv, groupId, {}, FORM)).length, 0);
    await okV1(srv, 'DeleteSecurityGroup', { SecurityGroupId: groupId }, FORM);
  });

  test('the peer group and the VPC are deleted at the end', async () => {
    await okV1(srv, 'DeleteSecurityGroup', { SecurityGroupId: peerGroup }, FORM);
    const r = await signedV1(
      srv,
      { Action: 'DeleteVpc', Version: VPC_VERSION, RegionId: REGION, VpcId: vpcId },
      FORM,
    );
    assert.equal(r.status, 200, r.text);
    const vpcs = await signedV1(
      srv,
      { Action: 'DescribeVpcs', Version: VPC_VERSION, RegionId: REGION, VpcId: vpcId },
      FORM,
    );
    assert.equal(vpcs.status, 200, vpcs.text);
    assert.equal(vpcs.body.Vpcs.Vpc.length, 0);
  });
});
