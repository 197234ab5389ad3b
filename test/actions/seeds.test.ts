/**
 * Every request example of the seed documents (AuthorizeSecurityGroup zh, AuthorizeSecurityGroupEgress
 * zh and ja), replayed as v1-signed GET requests with real ids put in for the doc's
 * placeholders. The examples use classic groups (no VpcId) and name another account's group
 * by `…GroupOwnerAccount=test@aliyun.com`, so the server runs with an accounts file in which
 * `test@aliyun.com` owns the referenced group and a second account makes the calls.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  accountsFile,
  assertErrorEnvelope,
  createGroupV1,
  ecsV1,
  okV1,
  type Permission,
  permissionsV1,
  REQUEST_ID,
  type TestAccount,
} from './support.js';

const OWNER: TestAccount = {
  uid: '1000000000000002',
  name: 'test@aliyun.com',
  accessKeyId: 'owner-ak',
  secret: 'owner-secret',
};
const CALLER: TestAccount = {
  uid: '1000000000000003',
  name: 'caller@example.com',
  accessKeyId: 'caller-ak',
  secret: 'caller-secret',
};

interface Example {
  /** Where the example is, for the test name. */
  where: string;
  /** The example URL as printed (line breaks, stray blanks and all). */
  url: string;
  /** The Permission fields the rule must read back with (ids checked separately). */
  expect: Partial<Permission>;
}

/** The doc examples verbatim (whitespace aside). Placeholders are replaced below. */
const EXAMPLES: Example[] = [
  {
    where: '003 AuthorizeSecurityGroup (zh) 请求示例一',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroup
      &SecurityGroupId=sg-F876FF7BA
      &SourceCidrIp=0.0.0.0/0
      &IpProtocol=tcp
      &PortRange=1/65535
      &NicType=intranet
      &Policy=accept
      &<公共请求参数>`,
    expect: {
      Direction: 'ingress',
      IpProtocol: 'TCP',
      PortRange: '1/65535',
      Policy: 'Accept',
      NicType: 'intranet',
      SourceCidrIp: '0.0.0.0/0',
      DestCidrIp: '',
      SourceGroupId: '',
      SourceGroupOwnerAccount: '',
    },
  },
  {
    where: '003 AuthorizeSecurityGroup (zh) 请求示例二',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroup
      &SecurityGroupId=sg-F876FF7BA
      &SourceGroupId=sg-1651FBB64
      &SourceGroupOwnerAccount=test@aliyun.com
      &IpProtocol=tcp
      &PortRange=1/65535
      &NicType=intranet
      &Policy=drop
      &<公共请求参数>`,
    expect: {
      Direction: 'ingress',
      IpProtocol: 'TCP',
      PortRange: '1/65535',
      Policy: 'Drop',
      NicType: 'intranet',
      SourceCidrIp: '',
      DestCidrIp: '',
      SourceGroupOwnerAccount: 'test@aliyun.com',
    },
  },
  {
    where: '000 AuthorizeSecurityGroupEgress (zh) 接口说明, IP range',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroupEgress
      &SecurityGroupId=sg-94n63e80l
      &IpProtocol=icmp
      &DestCidrIp=10.0.0.0/8
      &PortRange=-1/-1
      &NicType=intranet
      &Policy=Allow
      &<公共请求参数>`,
    expect: {
      Direction: 'egress',
      IpProtocol: 'ICMP',
      PortRange: '-1/-1',
      Policy: 'Accept',
      NicType: 'intranet',
      DestCidrIp: '10.0.0.0/8',
      SourceCidrIp: '',
      DestGroupId: '',
      DestGroupOwnerAccount: '',
    },
  },
  {
    where: '000 AuthorizeSecurityGroupEgress (zh) 接口说明, other group',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroupEgress
      &SecurityGroupId=sg-F876FF7BA
      &DestGroupId=sg-1651FBB64
      &DestGroupOwnerAccount=test@aliyun.com
      &IpProtocol=tcp
      &PortRange=22/22
      &NicType=intranet
      &Policy=Drop
      &<公共请求参数>`,
    expect: {
      Direction: 'egress',
      IpProtocol: 'TCP',
      PortRange: '22/22',
      Policy: 'Drop',
      NicType: 'intranet',
      DestCidrIp: '',
      SourceCidrIp: '',
      DestGroupOwnerAccount: 'test@aliyun.com',
    },
  },
  {
    where: '000 AuthorizeSecurityGroupEgress (zh) 请求示例 (masked ids)',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroupEgress
      &SecurityGroupId=sg-F876FF7**
      &DestGroupId=sg-1651FBB**
      &DestGroupOwnerAccount=test@aliyun.com
      &IpProtocol=tcp
      &PortRange=22/22
      &NicType=intranet
      &Policy=Drop
      &<公共请求参数>`,
    expect: {
      Direction: 'egress',
      IpProtocol: 'TCP',
      PortRange: '22/22',
      Policy: 'Drop',
      NicType: 'intranet',
      DestCidrIp: '',
      DestGroupOwnerAccount: 'test@aliyun.com',
    },
  },
  {
    where: '004 AuthorizeSecurityGroupEgress (ja) 説明, IP range',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroupEgress &SecurityGroupId=sg-94n63e80l  &IpProtocol=icmp  &DestCidrIp=10.0.0.0/8  &PortRange=-1/-1  &NicType=intranet &Policy=Allow &<Common request parameters>`,
    expect: {
      Direction: 'egress',
      IpProtocol: 'ICMP',
      PortRange: '-1/-1',
      Policy: 'Accept',
      NicType: 'intranet',
      DestCidrIp: '10.0.0.0/8',
      DestGroupId: '',
    },
  },
  {
    // The doc prints `DestGroupId = sg-1651FBB64` (blanks around '='): a typo for DestGroupId.
    where: '004 AuthorizeSecurityGroupEgress (ja) 説明, other group',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroupEgress &SecurityGroupId=sg-280ih3w4b &DestGroupId = sg-1651FBB64 &DestGroupOwnerAccount=test@aliyun.com &IpProtocol=tcp  &PortRange=22/22  &NicType=intranet  &Policy=Drop &<Common request parameters>`,
    expect: {
      Direction: 'egress',
      IpProtocol: 'TCP',
      PortRange: '22/22',
      Policy: 'Drop',
      NicType: 'intranet',
      DestCidrIp: '',
      DestGroupOwnerAccount: 'test@aliyun.com',
    },
  },
  {
    where: '004 AuthorizeSecurityGroupEgress (ja) リクエスト例',
    url: `https://ecs.aliyuncs.com/?Action=AuthorizeSecurityGroupEgress
      &SecurityGroupId=sg-F876FF7BA
      &DestGroupId=sg-1651FBB64
      &DestGroupOwnerAccount=test@aliyun.com
      &IpProtocol=tcp
      &PortRange=22/22
      &NicType=intranet
      &Policy=Drop
      &<Common request parameters>`,
    expect: {
      Direction: 'egress',
      IpProtocol: 'TCP',
      PortRange: '22/22',
      Policy: 'Drop',
      NicType: 'intranet',
      DestCidrIp: '',
      DestGroupOwnerAccount: 'test@aliyun.com',
    },
  },
];

/** The business params of a printed example: `key=value` pairs, blanks trimmed, `<…>` dropped. */
function exampleParams(url: string): Record<string, string> {
  const query = url.replace(/\s+/g, ' ').split('?')[1] ?? '';
  const out: Record<string, string> = {};
  for (const part of query.split('&')) {
    const item = part.trim();
    if (item === '' || item.startsWith('<')) continue;
    const eq = item.indexOf('=');
    assert.ok(eq > 0, `key=value in ${item}`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

let srv: TestServer;
let ownerGroup: string;
const OWNER_GROUP_NAME = 'seed-owner-group';
const asOwner = { accessKeyId: OWNER.accessKeyId, secret: OWNER.secret };
const asCaller = { accessKeyId: CALLER.accessKeyId, secret: CALLER.secret };

before(async () => {
  srv = await startServer({ accounts: accountsFile(OWNER, CALLER) });
  // The referenced group (`sg-1651FBB64` in the docs): a classic group of test@aliyun.com.
  ownerGroup = await createGroupV1(srv, { SecurityGroupName: OWNER_GROUP_NAME }, asOwner);
});
after(() => srv?.stop());

/** Puts real ids in for the doc's placeholders: the target group is a fresh classic group. */
async function substitute(
  params: Record<string, string>,
): Promise<{ params: Record<string, string>; groupId: string }> {
  const groupId = await createGroupV1(srv, { SecurityGroupName: 'seed-target' }, asCaller);
  const out: Record<string, string> = { ...params, SecurityGroupId: groupId };
  for (const k of ['SourceGroupId', 'DestGroupId']) if (k in out) out[k] = ownerGroup;
  return { params: out, groupId };
}

describe('seed request examples, v1 GET', () => {
  for (const ex of EXAMPLES) {
    test(ex.where, async () => {
      const { Action: action, ...doc } = exampleParams(ex.url);
      assert.ok(action === 'AuthorizeSecurityGroup' || action === 'AuthorizeSecurityGroupEgress');
      const { params, groupId } = await substitute(doc);

      const body = await okV1(srv, action, params, asCaller);
      assert.deepEqual(Object.keys(body), ['RequestId']);

      const perms = await permissionsV1(srv, groupId, {}, asCaller);
      assert.equal(perms.length, 1, JSON.stringify(perms));
      const p = perms[0]!;
      assert.match(p.SecurityGroupRuleId, /^sgr-[0-9a-z]+$/);
      assert.match(p.CreateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      for (const [k, v] of Object.entries(ex.expect)) {
        assert.equal(p[k as keyof Permission], v, `${k} of ${JSON.stringify(p)}`);
      }
      // Defaults of the fields the examples leave out.
      assert.equal(p.Priority, '1');
      assert.equal(p.SourcePortRange, '');
      assert.equal(p.Description, '');
      assert.equal(p.Ipv6SourceCidrIp, '');
      assert.equal(p.Ipv6DestCidrIp, '');
      // The far end: the other account's group, owned as in the example (its name is the
      // other account's business: a grant does not show it).
      const ingress = action === 'AuthorizeSecurityGroup';
      const refersToGroup = 'SourceGroupId' in doc || 'DestGroupId' in doc;
      const [groupField, nameField, accountField, otherId, otherName, otherAccount] = ingress
        ? [
            'SourceGroupId',
            'SourceGroupName',
            'SourceGroupOwnerAccount',
            'DestGroupId',
            'DestGroupName',
            'DestGroupOwnerAccount',
          ]
        : [
            'DestGroupId',
            'DestGroupName',
            'DestGroupOwnerAccount',
            'SourceGroupId',
            'SourceGroupName',
            'SourceGroupOwnerAccount',
          ];
      const q = p as Record<string, string>;
      assert.equal(q[groupField], refersToGroup ? ownerGroup : '');
      assert.equal(q[nameField], '');
      assert.equal(q[accountField], refersToGroup ? OWNER.name : '');
      assert.equal(q[otherId], '');
      assert.equal(q[otherName], '');
      assert.equal(q[otherAccount], '');

      // The same call again names the same rule: InvalidPermission.Duplicate, nothing added.
      const again = await ecsV1(srv, action, params, asCaller);
      assertErrorEnvelope(again, 'InvalidPermission.Duplicate', 400);
      assert.equal((await permissionsV1(srv, groupId, {}, asCaller)).length, 1);

      // DescribeSecurityGroupAttribute filtered by the example's direction and NicType.
      const direction = ingress ? 'ingress' : 'egress';
      const filtered = await permissionsV1(
        srv,
        groupId,
        { Direction: direction, NicType: 'intranet' },
        asCaller,
      );
      assert.deepEqual(
        filtered.map((x) => x.SecurityGroupRuleId),
        [p.SecurityGroupRuleId],
      );
      const otherDir = await permissionsV1(
        srv,
        groupId,
        { Direction: ingress ? 'egress' : 'ingress' },
        asCaller,
      );
      assert.equal(otherDir.length, 0);
      const internet = await permissionsV1(srv, groupId, { NicType: 'internet' }, asCaller);
      assert.equal(internet.length, 0);
    });
  }

  test('the documented XML response: <AuthorizeSecurityGroupResponse><RequestId>', async () => {
    const { Action: action, ...doc } = exampleParams(EXAMPLES[0]!.url);
    const { params, groupId } = await substitute(doc);
    const r = await ecsV1(srv, action!, params, { ...asCaller, format: null });
    assert.equal(r.status, 200, r.text);
    const parsed = new XMLParser({ parseTagValue: false }).parse(r.text);
    assert.deepEqual(
      Object.keys(parsed).filter((k) => k !== '?xml'),
      ['AuthorizeSecurityGroupResponse'],
    );
    assert.deepEqual(Object.keys(parsed.AuthorizeSecurityGroupResponse), ['RequestId']);
    assert.match(parsed.AuthorizeSecurityGroupResponse.RequestId, REQUEST_ID);
    assert.equal((await permissionsV1(srv, groupId, {}, asCaller)).length, 1);
  });

  test('the referenced group lists the caller groups that name it', async () => {
    const body = await okV1(
      srv,
      'DescribeSecurityGroupReferences',
      { 'SecurityGroupId.1': ownerGroup },
      asOwner,
    );
    const refs = body.SecurityGroupReferences.SecurityGroupReference;
    assert.equal(refs.length, 1);
    assert.equal(refs[0].SecurityGroupId, ownerGroup);
    const referencing = refs[0].ReferencingSecurityGroups.ReferencingSecurityGroup;
    // Five of the examples name the owner's group, each from its own caller group.
    const examples = EXAMPLES.filter((e) => /(Source|Dest)GroupId/.test(e.url)).length;
    assert.equal(referencing.length, examples, JSON.stringify(referencing));
    for (const r of referencing) assert.equal(r.AliUid, CALLER.uid);
  });
});

// Guard: the embedded examples are all the examples of the seed documents, when present.
const SEEDS = '/work/shared/seeds';
test('the embedded examples are exactly those of the seed documents', {
  skip: !existsSync(SEEDS) && 'seed documents not present',
}, () => {
  const found: Record<string, string>[] = [];
  for (const f of readdirSync(SEEDS).sort()) {
    const text = readFileSync(join(SEEDS, f), 'utf8');
    for (const m of text.matchAll(/https:\/\/ecs\.aliyuncs\.com\/\?Action=[^<]*</g)) {
      found.push(exampleParams(m[0].slice(0, -1)));
    }
  }
  const key = (x: Record<string, string>) => JSON.stringify(Object.entries(x).sort());
  assert.deepEqual(found.map(key).sort(), EXAMPLES.map((e) => key(exampleParams(e.url))).sort());
});
