/**
 * `ecs-secgroup analyze` against a running server: findings by severity with witnesses as
 * `ecs-secgroup check` lines that run as printed, `--json`, `--what-if FILE`, `--fail-on`, and
 * the exit codes (0 nothing at or above --fail-on, 3 otherwise, 2 usage or request error).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import { vpcWithVSwitch } from './actions/support.js';
import { type EcsClient, ecsClient, vpcClient } from './helpers/clients.js';
import { type CliResult, runCli, startServer, type TestServer, tempDir } from './helpers/server.js';

const R = 'cn-hangzhou';
const ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'test', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test' };

let srv: TestServer;
let ecs: EcsClient;
let vSwitchId = '';
/** `open` accepts SSH from anywhere (critical); `quiet` holds only a drop that restates the default (low). */
let open = '';
let quiet = '';
let openEni = '';
let sshRule = '';

function analyze(...args: string[]): Promise<CliResult> {
  return runCli(['analyze', '--endpoint', srv.url, ...args], { env: ENV });
}

/** Runs a printed check line (with `"$ENI"` standing for `eni`) against the server. */
function runCheckLine(line: string, eni: string): Promise<CliResult> {
  const args = line
    .trim()
    .split(/\s+/)
    .slice(2) // "ecs-secgroup check"
    .map((a) => (a === '"$ENI"' ? eni : a));
  return runCli(['check', '--endpoint', srv.url, ...args], { env: ENV });
}

let vpcId = '';

async function group(): Promise<string> {
  return (
    await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: R, vpcId }))
  ).body!.securityGroupId!;
}

before(async () => {
  srv = await startServer();
  ecs = ecsClient(srv);
  ({ vpcId, vSwitchId } = await vpcWithVSwitch(vpcClient(srv)));
  open = await group();
  quiet = await group();
  await ecs.authorizeSecurityGroup(
    new $Ecs.AuthorizeSecurityGroupRequest({
      regionId: R,
      securityGroupId: open,
      ipProtocol: 'tcp',
      portRange: '22/22',
      sourceCidrIp: '0.0.0.0/0',
    }),
  );
  await ecs.authorizeSecurityGroup(
    new $Ecs.AuthorizeSecurityGroupRequest({
      regionId: R,
      securityGroupId: quiet,
      ipProtocol: 'tcp',
      portRange: '23/23',
      sourceCidrIp: '0.0.0.0/0',
      policy: 'drop',
    }),
  );
  const perms = await ecs.describeSecurityGroupAttribute(
    new $Ecs.DescribeSecurityGroupAttributeRequest({ regionId: R, securityGroupId: open }),
  );
  sshRule = perms.body!.permissions!.permission![0]!.securityGroupRuleId!;
  openEni = (
    await ecs.createNetworkInterface(
      new $Ecs.CreateNetworkInterfaceRequest({ regionId: R, vSwitchId, securityGroupIds: [open] }),
    )
  ).body!.networkInterfaceId!;
});

after(() => srv?.stop());

describe('ecs-secgroup analyze', () => {
  test('a critical exposure: findings by severity, a check line that runs as printed, exit 3', async () => {
    const r = await analyze(open);
    assert.equal(r.code, 3, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(
      lines[0]!,
      new RegExp(`^${open}: 1 rules, 1 reachable, 0 unreachable; 1 findings`),
    );
    assert.match(r.stdout, /\nCRITICAL\n {2}Exposure 22: port 22 is reachable from/);
    const checkLine = lines.find((l) => l.trim().startsWith('ecs-secgroup check'))!;
    assert.match(checkLine, /--to "\$ENI" --proto tcp --port 22 --source-port 49152/);
    const ran = await runCheckLine(checkLine, openEni);
    assert.equal(ran.code, 0, `${checkLine}\n${ran.stdout}${ran.stderr}`);
    assert.ok(ran.stdout.includes(sshRule), ran.stdout);
  });

  test('--fail-on: a low finding passes by default and fails at low', async () => {
    const r = await analyze(quiet);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nLOW\n {2}NoEffect: /);
    assert.equal((await analyze(quiet, '--fail-on', 'low')).code, 3);
    assert.equal((await analyze(open, '--fail-on', 'critical')).code, 3);
  });

  test('--json prints the server’s answer; the exit code follows the findings', async () => {
    const r = await analyze(open, '--json', '--direction', 'ingress', '--ports', '22,3389');
    assert.equal(r.code, 3, r.stderr);
    const body = JSON.parse(r.stdout);
    assert.equal(body.SecurityGroupId, open);
    assert.equal(body.Rules.Rule[0].SecurityGroupRuleId, sshRule);
    assert.deepEqual(
      body.Findings.Finding.map((f: { Port: number }) => f.Port),
      [22],
    );
  });

  test('--what-if FILE at an interface: the changes with check lines that run, findings after the change', async () => {
    const dir = tempDir();
    const file = join(dir, 'change.json');
    writeFileSync(
      file,
      JSON.stringify({
        add: [
          {
            Direction: 'ingress',
            IpProtocol: 'tcp',
            PortRange: '22/22',
            SourceCidrIp: '0.0.0.0/0',
            Policy: 'drop',
            Priority: 1,
          },
        ],
        remove: [sshRule],
      }),
    );
    const r = await analyze(openEni, '--what-if', file);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(
      r.stdout,
      /\nCHANGES \(what-if\)\n {2}ingress packets accepted by sgr-\S+ would be dropped by Add\.1\./,
    );
    const line = r.stdout.split('\n').find((l) => l.includes('ecs-secgroup check'))!;
    assert.ok(line.includes(`--to ${openEni}`), line);
    const ran = await runCheckLine(line, openEni);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr); // accepted now: nothing was stored
    const json = JSON.parse((await analyze(openEni, '--what-if', file, '--json')).stdout);
    assert.equal(json.Changes.Change.length, 1);
    assert.equal(json.Rules.Rule[0].SecurityGroupRuleId, 'Add.1');
  });

  test('usage and request errors exit 2 with a message; --help exits 0', async () => {
    const dir = tempDir();
    const notJson = join(dir, 'bad.json');
    writeFileSync(notJson, '{"add": [');
    const badShape = join(dir, 'shape.json');
    writeFileSync(badShape, JSON.stringify({ add: {}, remove: [] }));
    const badKey = join(dir, 'key.json');
    writeFileSync(badKey, JSON.stringify({ change: [] }));
    const cases: [string[], RegExp][] = [
      [[], /one security group/],
      [['vpc-1'], /one security group/],
      [[open, quiet], /one security group/],
      [[open, '--fail-on', 'urgent'], /--fail-on/],
      [[open, '--what-if', join(dir, 'missing.json')], /--what-if/],
      [[open, '--what-if', notJson], /not JSON/],
      [[open, '--what-if', badShape], /"add" must be an array/],
      [[open, '--what-if', badKey], /unknown key "change"/],
      [[open, '--bogus'], /bogus/],
      [['sg-nope'], /InvalidSecurityGroupId\.NotFound.*HTTP 404/],
      [[open, '--direction', 'up'], /InvalidParameter/],
      [[open, '--ports', '0'], /InvalidParameter\.Value/],
    ];
    for (const [args, message] of cases) {
      const r = await analyze(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /^ecs-secgroup analyze: /);
      assert.match(r.stderr, message, args.join(' '));
    }
    const help = await runCli(['analyze', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: ecs-secgroup analyze/);
    assert.match(help.stdout, /What-if file/);
  });
});
