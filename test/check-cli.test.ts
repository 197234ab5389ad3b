/**
 * `ecs-secgroup check` against a running server: the readable line (ACCEPT/DROP, the
 * deciding rule and group), `--json`, the interface-to-interface form, exit codes (0 accept,
 * 1 drop, 2 usage or request error) and `--help`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import { vpcWithVSwitch } from './actions/support.js';
import { type EcsClient, ecsClient, vpcClient } from './helpers/clients.js';
import { type CliResult, runCli, startServer, type TestServer } from './helpers/server.js';

const R = 'cn-hangzhou';
/** The CLI's credentials come from flags or these variables: pin them to the default key. */
const ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'test', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test' };

let srv: TestServer;
let ecs: EcsClient;
/** `web` accepts tcp 22 from 10.0.1.0/24 (priority 1) and drops tcp 23 from anywhere (priority 3). */
let web = '';
let sshRule = '';
let telnetDrop = '';
/** An interface in `web` and one in `client` (a group without rules). */
let target = { id: '', ip: '' };
let source = { id: '', ip: '' };
let client = '';

async function ruleId(groupId: string, description: string): Promise<string> {
  const r = await ecs.describeSecurityGroupAttribute(
    new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: groupId }),
  );
  const p = (r.body!.permissions?.permission ?? []).find((x) => x.description === description);
  assert.ok(p, `rule ${description} of ${groupId}`);
  return p.securityGroupRuleId!;
}

function check(...args: string[]): Promise<CliResult> {
  return runCli(['check', '--endpoint', srv.url, ...args], { env: ENV });
}

/** Exactly one line on stdout; returns it. */
function oneLine(r: CliResult): string {
  const lines = r.stdout.split('\n');
  assert.equal(lines.length, 2, `one line and a newline: ${JSON.stringify(r.stdout)}`);
  assert.equal(lines[1], '');
  return lines[0]!;
}

before(async () => {
  srv = await startServer();
  ecs = ecsClient(srv);
  const { vpcId, vSwitchId } = await vpcWithVSwitch(vpcClient(srv));
  const group = async () =>
    (await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId })))
      .body!.securityGroupId!;
  web = await group();
  client = await group();
  await ecs.authorizeSecurityGroup(
    new $Ecs.AuthorizeSecurityGroupRequest({
      regionId: R,
      securityGroupId: web,
      ipProtocol: 'tcp',
      portRange: '22/22',
      sourceCidrIp: '10.0.1.0/24',
      policy: 'accept',
      priority: '1',
      description: 'ssh',
    }),
  );
  await ecs.authorizeSecurityGroup(
    new $Ecs.AuthorizeSecurityGroupRequest({
      regionId: R,
      securityGroupId: web,
      ipProtocol: 'tcp',
      portRange: '23/23',
      sourceCidrIp: '0.0.0.0/0',
      policy: 'drop',
      priority: '3',
      description: 'telnet',
    }),
  );
  sshRule = await ruleId(web, 'ssh');
  telnetDrop = await ruleId(web, 'telnet');
  const eni = async (groupId: string, ip: string) => {
    const r = await ecs.createNetworkInterface(
      new $Ecs.CreateNetworkInterfaceRequest({
        regionId: R,
        vSwitchId,
        securityGroupIds: [groupId],
        primaryIpAddress: ip,
      }),
    );
    return { id: r.body!.networkInterfaceId!, ip: r.body!.privateIpAddress! };
  };
  target = await eni(web, '10.0.1.20');
  source = await eni(client, '10.0.1.30');
});

after(() => srv?.stop());

describe('ecs-secgroup check: IP ↔ interface', () => {
  test('accepted: one line starting ACCEPT naming the rule and the group, exit 0', async () => {
    const r = await check(
      '--from',
      '10.0.1.5',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '22',
    );
    assert.equal(r.code, 0, r.stderr);
    const line = oneLine(r);
    assert.match(line, /^ACCEPT /);
    assert.ok(line.includes(sshRule), line);
    assert.ok(line.includes(web), line);
    assert.ok(line.includes('10.0.1.5'), line);
    assert.ok(line.includes(target.id), line);
    assert.match(line, /ingress/);
    assert.equal(r.stderr, '');
  });

  test('dropped by a rule: one line starting DROP naming the drop rule, exit 1', async () => {
    const r = await check(
      '--from',
      '10.0.1.5',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '23',
    );
    assert.equal(r.code, 1, r.stderr);
    const line = oneLine(r);
    assert.match(line, /^DROP /);
    assert.ok(line.includes(telnetDrop), line);
    assert.ok(line.includes(web), line);
    assert.equal(r.stderr, '');
  });

  test('outside the accepted CIDR: dropped by default, exit 1, no rule named', async () => {
    const r = await check(
      '--from',
      '192.168.9.9',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '22',
    );
    assert.equal(r.code, 1, r.stderr);
    const line = oneLine(r);
    assert.match(line, /^DROP /);
    assert.ok(!line.includes(sshRule), line);
    assert.match(line, /default/i);
  });

  test('interface → IP is egress: accepted by default, exit 0', async () => {
    const r = await check(
      '--from',
      target.id,
      '--to',
      '8.8.8.8',
      '--proto',
      'tcp',
      '--port',
      '443',
    );
    assert.equal(r.code, 0, r.stderr);
    const line = oneLine(r);
    assert.match(line, /^ACCEPT /);
    assert.match(line, /egress/);
    assert.match(line, /default/i);
  });

  test('icmp needs no --port', async () => {
    const r = await check('--from', '10.0.1.5', '--to', target.id, '--proto', 'icmp');
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r), /^DROP /);
  });

  test('--json prints the server’s answer', async () => {
    const r = await check(
      '--from',
      '10.0.1.5',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '22',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(oneLine(r));
    assert.equal(typeof answer.RequestId, 'string');
    const { RequestId, ...rest } = answer;
    assert.deepEqual(rest, {
      Verdict: 'Accept',
      Reason: 'Rule',
      SecurityGroupId: web,
      SecurityGroupRuleId: sshRule,
      Priority: '1',
      Policy: 'Accept',
    });
    const d = await check(
      '--json',
      '--from',
      '10.0.1.5',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '23',
    );
    assert.equal(d.code, 1, d.stderr);
    const dropped = JSON.parse(oneLine(d));
    assert.equal(dropped.Verdict, 'Drop');
    assert.equal(dropped.SecurityGroupRuleId, telnetDrop);
    assert.equal(dropped.Priority, '3');
  });
});

describe('ecs-secgroup check: interface → interface', () => {
  test('accepted when egress and ingress accept; both parts named', async () => {
    const r = await check('--from', source.id, '--to', target.id, '--proto', 'tcp', '--port', '22');
    assert.equal(r.code, 0, r.stderr);
    const line = oneLine(r);
    assert.match(line, /^ACCEPT /);
    assert.match(line, /egress ACCEPT/);
    assert.match(line, /ingress ACCEPT/);
    assert.ok(line.includes(sshRule), line);
    assert.ok(line.includes(web), line);
  });

  test('dropped at the receiver: exit 1, the drop rule named', async () => {
    const r = await check('--from', source.id, '--to', target.id, '--proto', 'tcp', '--port', '23');
    assert.equal(r.code, 1, r.stderr);
    const line = oneLine(r);
    assert.match(line, /^DROP /);
    assert.match(line, /ingress DROP/);
    assert.ok(line.includes(telnetDrop), line);
  });

  test('--json carries Egress and Ingress', async () => {
    const r = await check(
      '--from',
      source.id,
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '22',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const answer = JSON.parse(oneLine(r));
    assert.equal(answer.Verdict, 'Accept');
    assert.equal(answer.Egress.Verdict, 'Accept');
    assert.equal(answer.Egress.Reason, 'Default');
    assert.equal(answer.Ingress.Verdict, 'Accept');
    assert.equal(answer.Ingress.SecurityGroupRuleId, sshRule);
    assert.equal(answer.Ingress.SecurityGroupId, web);
  });

  test('the other way round: nothing lets it into the client group', async () => {
    const r = await check('--from', target.id, '--to', source.id, '--proto', 'tcp', '--port', '22');
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r), /^DROP /);
  });
});

describe('ecs-secgroup check: errors and help', () => {
  test('unknown interface → exit 2, the error code on stderr, nothing on stdout', async () => {
    const r = await check(
      '--from',
      '10.0.1.5',
      '--to',
      'eni-nope',
      '--proto',
      'tcp',
      '--port',
      '22',
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /InvalidEniId\.NotFound/);
    assert.match(r.stderr, /404/);
    assert.equal(r.stdout, '');
  });

  test('unknown interface in the interface-to-interface form → exit 2', async () => {
    const r = await check(
      '--from',
      source.id,
      '--to',
      'eni-nope',
      '--proto',
      'tcp',
      '--port',
      '22',
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /InvalidEniId\.NotFound/);
  });

  test('an interface of another region → exit 2', async () => {
    const r = await check(
      '--region',
      'cn-shanghai',
      '--from',
      '10.0.1.5',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '22',
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /InvalidEniId\.NotFound/);
  });

  test('a bad or missing port → exit 2 naming the flag, nothing sent', async () => {
    const bad = await check(
      '--from',
      '10.0.1.5',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '70000',
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^ecs-secgroup check: --port 70000: expected a port number/);
    const missing = await check('--from', '10.0.1.5', '--to', target.id, '--proto', 'tcp');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--port is required with --proto tcp/);
    assert.doesNotMatch(missing.stderr, /PeerPort|LocalPort/, 'the flag, not the server parameter');
    const proto = await check('--from', '10.0.1.5', '--to', target.id, '--proto', 'sctp');
    assert.equal(proto.code, 2);
    assert.match(proto.stderr, /--proto sctp/);
  });

  test('the endpoint with or without a scheme; https:// trusts --ca', async () => {
    const args = ['--from', '10.0.1.5', '--to', target.id, '--proto', 'tcp', '--port', '22'];
    for (const endpoint of [srv.host, srv.url]) {
      const r = await runCli(['check', '--endpoint', endpoint, ...args], { env: ENV });
      assert.equal(r.code, 0, `${endpoint}: ${r.stderr}`);
    }
    const tls = await runCli(['check', '--endpoint', srv.httpsUrl, '--ca', srv.caFile, ...args], {
      env: ENV,
    });
    assert.equal(tls.code, 0, tls.stderr);
    const untrusted = await runCli(['check', '--endpoint', srv.httpsUrl, ...args], {
      env: { ...ENV, ECS_SECGROUP_CA_FILE: '' },
    });
    assert.equal(untrusted.code, 2);
    assert.match(
      untrusted.stderr,
      /cannot reach https:\/\/127\.0\.0\.1:\d+: \w+ \(its certificate is not trusted: give --ca FILE/,
    );
    const bad = await runCli(['check', '--endpoint', 'http://[zz', ...args], { env: ENV });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--endpoint "http:\/\/\[zz" is not an endpoint/);
    assert.doesNotMatch(bad.stderr + untrusted.stderr, /Signature=|AccessKeyId=/, 'no signed URL');
  });

  test('an IPv6 peer prints in brackets', async () => {
    const r = await check(
      '--from',
      '2001:db8::1',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '22',
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r), /tcp \[2001:db8::1\]:49152 -> eni-[0-9a-z]+:22 /);
  });

  test('wrong credentials → exit 2 with the error code', async () => {
    const r = await check(
      '--access-key-id',
      'nobody',
      '--from',
      '10.0.1.5',
      '--to',
      target.id,
      '--proto',
      'tcp',
      '--port',
      '22',
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /InvalidAccessKeyId\.NotFound/);
  });

  test('usage errors → exit 2: missing --proto, no interface, unknown flag', async () => {
    for (const args of [
      ['--from', '10.0.1.5', '--to', target.id],
      ['--from', '10.0.1.5', '--to', '10.0.1.6', '--proto', 'tcp', '--port', '22'],
      ['--from', '10.0.1.5', '--to', target.id, '--proto', 'tcp', '--bogus'],
    ]) {
      const r = await check(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^ecs-secgroup check: /);
      assert.equal(r.stdout, '');
    }
  });

  test('no server at the endpoint → exit 2', async () => {
    const r = await runCli(
      [
        'check',
        '--endpoint',
        'http://127.0.0.1:1',
        '--from',
        '10.0.1.5',
        '--to',
        target.id,
        '--proto',
        'tcp',
        '--port',
        '22',
      ],
      { env: ENV },
    );
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^ecs-secgroup check: cannot reach http:\/\/127\.0\.0\.1:1: ECONNREFUSED/,
    );
    assert.doesNotMatch(r.stderr, /fetch failed|Signature=/);
  });

  test('--help → exit 0 with the usage on stdout', async () => {
    const r = await runCli(['check', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: ecs-secgroup check /);
    assert.match(r.stdout, /--json/);
    assert.match(r.stdout, /Exit code: 0 accepted, 1 dropped, 2/);
    assert.equal(r.stderr, '');
  });
});
