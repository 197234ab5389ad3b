/**
 * Backup and fixtures: `export`, `import`, `serve --seed` and `reset` on real servers, the
 * state made with the official SDKs. Round trip export → import (fresh server) → export is
 * byte-identical, through the service and directly on its database; an import refused
 * part-way changes nothing; a second import changes nothing; the error codes of
 * ImportState (InvalidParameter for a bad document or entry, InvalidParameter.Conflict,
 * MissingParameter, IdempotentParameterMismatch).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as $Ecs from '@alicloud/ecs20140526';
import * as $Vpc from '@alicloud/vpc20160428';
import { ECS_VERSION, ecsClient, expectApiError, signedV1, vpcClient } from './helpers/clients.js';
import { databaseFor, PG_MODE } from './helpers/pg.js';
import { runCli, startServer, type TestServer, tempDir } from './helpers/server.js';

const R = 'cn-hangzhou';
const ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: 'test', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'test' };

type Doc = Record<string, unknown> & {
  SecurityGroups: Record<string, unknown>[];
  Vpcs: Record<string, unknown>[];
  NetworkInterfaces: Record<string, unknown>[];
};

/** The flags that reach `srv`'s database directly (its data dir, or its PostgreSQL database). */
async function direct(srv: TestServer): Promise<string[]> {
  return PG_MODE ? ['--store', await databaseFor(srv.dataDir)] : ['--data-dir', srv.dataDir];
}

/** ImportState, signed v1, its parameters in a form body. */
function importState(srv: TestServer, params: Record<string, string>) {
  return signedV1(
    srv,
    { Action: 'ImportState', Version: ECS_VERSION, ...params },
    { method: 'POST', form: true },
  );
}

/** Waits (up to 5 s) for `srv`'s log to match: stderr may arrive after the listening line. */
async function logged(srv: TestServer, line: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !line.test(srv.stderr()); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(srv.stderr(), line);
}

async function cli(...args: string[]) {
  return runCli(args, { env: ENV });
}

/** Exports `srv`'s default account through the service; returns the file's text. */
async function exported(srv: TestServer): Promise<string> {
  const out = join(tempDir(), 'state.json');
  const r = await cli('export', '--endpoint', srv.url, '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  return readFileSync(out, 'utf8');
}

/** A state with every kind of resource and field: tags, group references, IPv6, drop rules. */
async function populate(srv: TestServer): Promise<void> {
  const ecs = ecsClient(srv);
  const vpc = vpcClient(srv);
  const vpcId = (
    await vpc.createVpc(
      new $Vpc.CreateVpcRequest({
        regionId: R,
        cidrBlock: '10.0.0.0/16',
        vpcName: 'main',
        description: 'the main VPC',
      }),
    )
  ).body!.vpcId!;
  await vpc.tagResources(
    new $Vpc.TagResourcesRequest({
      regionId: R,
      resourceType: 'VPC',
      resourceId: [vpcId],
      tag: [new $Vpc.TagResourcesRequestTag({ key: 'env', value: 'ci' })],
    }),
  );
  const vSwitchId = (
    await vpc.createVSwitch(
      new $Vpc.CreateVSwitchRequest({
        regionId: R,
        vpcId,
        zoneId: 'cn-hangzhou-h',
        cidrBlock: '10.0.1.0/24',
        vSwitchName: 'a',
      }),
    )
  ).body!.vSwitchId!;
  const group = async (name: string) =>
    (
      await ecs.createSecurityGroup(
        new $Ecs.CreateSecurityGroupRequest({
          regionId: R,
          vpcId,
          securityGroupName: name,
          description: `the ${name} tier`,
          tag: [new $Ecs.CreateSecurityGroupRequestTag({ key: 'tier', value: name })],
        }),
      )
    ).body!.securityGroupId!;
  const web = await group('web');
  const db = await group('db');
  await ecs.modifySecurityGroupPolicy(
    new $Ecs.ModifySecurityGroupPolicyRequest({
      regionId: R,
      securityGroupId: db,
      innerAccessPolicy: 'Drop',
    }),
  );
  await ecs.authorizeSecurityGroup(
    new $Ecs.AuthorizeSecurityGroupRequest({
      regionId: R,
      securityGroupId: web,
      permissions: [
        new $Ecs.AuthorizeSecurityGroupRequestPermissions({
          ipProtocol: 'tcp',
          portRange: '443/443',
          sourceCidrIp: '0.0.0.0/0',
          description: 'https',
        }),
        new $Ecs.AuthorizeSecurityGroupRequestPermissions({
          ipProtocol: 'tcp',
          portRange: '22/22',
          sourceCidrIp: '10.0.1.7/24',
          priority: '2',
        }),
        new $Ecs.AuthorizeSecurityGroupRequestPermissions({
          ipProtocol: 'udp',
          portRange: '53/53',
          ipv6SourceCidrIp: '2001:db8::/32',
          policy: 'drop',
          priority: '5',
        }),
      ],
    }),
  );
  await ecs.authorizeSecurityGroup(
    new $Ecs.AuthorizeSecurityGroupRequest({
      regionId: R,
      securityGroupId: db,
      ipProtocol: 'tcp',
      portRange: '5432/5432',
      sourceGroupId: web,
    }),
  );
  await ecs.authorizeSecurityGroupEgress(
    new $Ecs.AuthorizeSecurityGroupEgressRequest({
      regionId: R,
      securityGroupId: web,
      ipProtocol: 'tcp',
      portRange: '5432/5432',
      destGroupId: db,
      sourcePortRange: '1024/65535',
    }),
  );
  await ecs.createNetworkInterface(
    new $Ecs.CreateNetworkInterfaceRequest({
      regionId: R,
      vSwitchId,
      securityGroupIds: [web, db],
      primaryIpAddress: '10.0.1.10',
      privateIpAddress: ['10.0.1.11'],
      networkInterfaceName: 'eth1',
      tag: [new $Ecs.CreateNetworkInterfaceRequestTag({ key: 'role', value: 'app' })],
    }),
  );
}

let source: TestServer;
let first = '';

before(async () => {
  source = await startServer();
  await populate(source);
  first = await exported(source);
});

describe('export', () => {
  test('holds every resource, its tags, and rules in order', () => {
    const doc = JSON.parse(first) as Doc;
    assert.equal(doc.Schema, 'ecs-secgroup/state');
    assert.equal(doc.SchemaVersion, 1);
    assert.equal(doc.OwnerId, '1000000000000001');
    assert.deepEqual(doc.Vpcs[0]!.Tags, [{ Key: 'env', Value: 'ci' }]);
    const [web, db] = doc.SecurityGroups as {
      SecurityGroupName: string;
      InnerAccessPolicy: string;
      Tags: unknown[];
      Permissions: Record<string, string>[];
    }[];
    assert.equal(web!.SecurityGroupName, 'web');
    assert.deepEqual(web!.Tags, [{ Key: 'tier', Value: 'web' }]);
    assert.equal(db!.InnerAccessPolicy, 'Drop');
    assert.deepEqual(
      web!.Permissions.map((p) => [p.Direction, p.PortRange]),
      [
        ['ingress', '443/443'],
        ['ingress', '22/22'],
        ['ingress', '53/53'],
        ['egress', '5432/5432'],
      ],
    );
    assert.equal(web!.Permissions[1]!.SourceCidrIp, '10.0.1.7/24', 'CIDR as written');
    assert.equal(web!.Permissions[2]!.Ipv6SourceCidrIp, '2001:db8::/32');
    assert.equal(web!.Permissions[3]!.SourcePortRange, '1024/65535');
    assert.ok(db!.Permissions[0]!.SourceGroupId?.startsWith('sg-'));
    const eni = doc.NetworkInterfaces[0] as Record<string, unknown>;
    assert.deepEqual(eni.SecondaryIpAddresses, ['10.0.1.11']);
    assert.deepEqual(eni.Tags, [{ Key: 'role', Value: 'app' }]);
    assert.ok(first.endsWith('}\n'));
  });

  test('directly from the database gives the same bytes, also while the service runs', async () => {
    const r = await cli('export', ...(await direct(source)));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, first);
  });

  test('--account is for direct mode only', async () => {
    const r = await cli('export', '--endpoint', source.url, '--account', '1');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--account is for direct mode/);
  });
});

describe('import', () => {
  let target: TestServer;
  let file = '';
  before(async () => {
    target = await startServer();
    file = join(tempDir(), 'state.json');
    writeFileSync(file, first);
  });
  after(() => target.stop());

  test('into a fresh server, then export again: byte-identical', async () => {
    const r = await cli('import', file, '--endpoint', target.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: 10 created, 0 already there\n$/);
    assert.equal(await exported(target), first);
  });

  test('a second import changes nothing', async () => {
    const r = await cli('import', file, '--endpoint', target.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: 0 created, 5 already there\n$/);
    assert.equal(await exported(target), first);
  });

  test('the imported rules decide as the originals do', async () => {
    const doc = JSON.parse(first) as Doc;
    const eni = doc.NetworkInterfaces[0]!.NetworkInterfaceId as string;
    for (const srv of [source, target]) {
      const r = await cli(
        'check',
        '--endpoint',
        srv.url,
        '--from',
        '198.51.100.1',
        '--to',
        eni,
        '--proto',
        'tcp',
        '--port',
        '443',
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ACCEPT /);
    }
  });

  test('a document that disagrees with what exists refuses the whole import', async () => {
    const doc = JSON.parse(first) as Doc;
    doc.SecurityGroups[1]!.SecurityGroupName = 'renamed';
    const r = await importState(target, { State: JSON.stringify(doc) });
    const e = await expectApiError(Promise.resolve(r), 'InvalidParameter.Conflict', 400);
    assert.match(e.message, /exists already and its SecurityGroupName differs/);
    assert.equal(await exported(target), first);
  });
});

describe('a refused import changes nothing', () => {
  let target: TestServer;
  before(async () => {
    target = await startServer();
  });
  after(() => target.stop());

  const empty = async () => JSON.parse(await exported(target)) as Doc;

  test('an invalid rule deep in the document: nothing created, the field named', async () => {
    const doc = JSON.parse(first) as Doc;
    const perms = doc.SecurityGroups[1]!.Permissions as Record<string, unknown>[];
    perms[0]!.PortRange = '70000/1';
    const r = await importState(target, { State: JSON.stringify(doc) });
    const e = await expectApiError(Promise.resolve(r), 'InvalidParam.PortRange', 400);
    assert.match(e.message, /\(at SecurityGroups\.2\.Permissions\.1\)$/);
    assert.deepEqual((await empty()).SecurityGroups, []);
  });

  test('a rule naming a group that does not exist: the model refuses, nothing created', async () => {
    const doc = JSON.parse(first) as Doc;
    const perms = doc.SecurityGroups[1]!.Permissions as Record<string, unknown>[];
    perms[0]!.SourceGroupId = 'sg-doesnotexist';
    const file = join(tempDir(), 'bad.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = await cli('import', file, '--endpoint', target.url);
    assert.equal(r.code, 1, 'refused by the API');
    assert.match(
      r.stderr,
      /^ecs-secgroup import: InvalidSourceGroupId\.NotFound: .* \(importing sg-\w+\)/,
    );
    const now = await empty();
    assert.deepEqual(now.Vpcs, []);
    assert.deepEqual(now.SecurityGroups, []);
    assert.deepEqual(now.NetworkInterfaces, []);
  });

  test('an interface on a vSwitch the document does not create', async () => {
    const doc = JSON.parse(first) as Doc;
    doc.NetworkInterfaces[0]!.VSwitchId = 'vsw-missing';
    const r = await importState(target, { State: JSON.stringify(doc) });
    await expectApiError(Promise.resolve(r), 'InvalidVSwitchId.NotFound', 404);
    assert.deepEqual((await empty()).Vpcs, []);
  });

  test('documents that are not state documents', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{}, 'MissingParameter', /State/],
      [{ State: 'not json' }, 'InvalidParameter', /not JSON/],
      [{ State: '[]' }, 'InvalidParameter', /not a JSON object/],
      [{ State: '{"Schema":"other","SchemaVersion":1}' }, 'InvalidParameter', /Schema/],
      [
        { State: JSON.stringify({ ...JSON.parse(first), OwnerId: '1000000000000009' }) },
        'InvalidParameter',
        /account 1000000000000009/,
      ],
      [
        { State: '{"Schema":"ecs-secgroup/state","SchemaVersion":1,"Vpcs":{}}' },
        'InvalidParameter',
        /Vpcs is not an array/,
      ],
      [
        {
          State: JSON.stringify({
            Schema: 'ecs-secgroup/state',
            SchemaVersion: 1,
            Vpcs: [{ VpcId: 'x', RegionId: R }],
          }),
        },
        'InvalidParameter',
        /Vpcs\.1\.VpcId/,
      ],
      // values JSON can give that are no text: refused, not an internal error
      [
        {
          State: JSON.stringify({
            Schema: 'ecs-secgroup/state',
            SchemaVersion: 1,
            SecurityGroups: [{ RegionId: R, Tags: [{ Key: { toString: 1 }, Value: 'v' }] }],
          }),
        },
        'InvalidParameter',
        /SecurityGroups\.1\.Tags\[0\]\.Key is not a string/,
      ],
      [
        {
          State: JSON.stringify({
            Schema: 'ecs-secgroup/state',
            SchemaVersion: 1,
            Vpcs: [{ RegionId: R, Tags: [{ Key: 'k', Value: { valueOf: {}, toString: {} } }] }],
          }),
        },
        'InvalidParameter',
        /Vpcs\.1\.Tags\[0\]\.Value is not a string/,
      ],
      [
        {
          State: JSON.stringify({
            Schema: 'ecs-secgroup/state',
            SchemaVersion: 1,
            OwnerId: { toString: 1 },
          }),
        },
        'InvalidParameter',
        /account \{"toString":1\}/,
      ],
      [{ StateGzip: 'bm90IGd6aXA=' }, 'InvalidParameter', /StateGzip/],
      [{ State: '{}', StateGzip: 'x' }, 'MissingParameter', /State/],
    ];
    for (const [params, code, message] of cases) {
      const r = await importState(target, params);
      const e = await expectApiError(Promise.resolve(r), code, 400);
      assert.match(e.message, message, JSON.stringify(params).slice(0, 80));
    }
    assert.deepEqual((await empty()).Vpcs, []);
  });

  test('a gzip bomb and a deeply nested document are refused at once', async () => {
    const zipped = (text: string) => gzipSync(text, { level: 9 }).toString('base64');
    const cases: [Record<string, string>, RegExp][] = [
      // 64 KB that unpack to 20 MiB
      [{ StateGzip: zipped(' '.repeat(20 << 20)) }, /StateGzip unpacks to more than 16 MiB/],
      // millions of levels: seconds of JSON.parse, were it parsed
      [{ StateGzip: zipped('['.repeat(15 << 20)) }, /nests arrays and objects more than 32 deep/],
      [{ State: `${'{"a":'.repeat(33)}1${'}'.repeat(33)}` }, /more than 32 deep/],
    ];
    for (const [params, message] of cases) {
      const started = Date.now();
      const e = await expectApiError(importState(target, params), 'InvalidParameter', 400);
      assert.match(e.message, message);
      assert.ok(Date.now() - started < 2000, `answered after ${Date.now() - started} ms`);
    }
    // as deep as a document goes, and brackets inside strings do not count
    const deepEnough = `{"Schema":"ecs-secgroup/state","SchemaVersion":1,"Vpcs":[],"x":"${'['.repeat(100)}","y":${'['.repeat(30)}${']'.repeat(30)}}`;
    const r = await importState(target, { State: deepEnough });
    assert.equal(r.status, 200, r.text);
  });

  test('ClientToken: a repeat returns the first answer; other parameters are a mismatch', async () => {
    const doc = JSON.stringify({
      Schema: 'ecs-secgroup/state',
      SchemaVersion: 1,
      SecurityGroups: [{ SecurityGroupId: 'sg-token1', RegionId: R, SecurityGroupName: 'tok' }],
    });
    const call = (state: string) => importState(target, { State: state, ClientToken: 'tok-1' });
    const a = await call(doc);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.Created, 1);
    const b = await call(doc);
    assert.equal(b.body.RequestId, a.body.RequestId);
    await expectApiError(call(doc.replace('"tok"', '"tik"')), 'IdempotentParameterMismatch', 400);
  });
});

describe('serve --seed', () => {
  test('a fixture loaded at start; restarting with it changes nothing; a conflict stops', async () => {
    const file = join(tempDir(), 'seed.json');
    writeFileSync(file, first);
    const srv = await startServer({ args: ['--seed', file] });
    assert.equal(await exported(srv), first);
    await logged(srv, /seeded account 1000000000000001 .*10 created/);
    assert.equal(await srv.stop(), 0);
    const again = await startServer({ dataDir: srv.dataDir, args: ['--seed', file] });
    await logged(again, /0 created, 5 unchanged/);
    const ecs = ecsClient(again);
    const doc = JSON.parse(first) as Doc;
    await ecs.modifySecurityGroupAttribute(
      new $Ecs.ModifySecurityGroupAttributeRequest({
        regionId: R,
        securityGroupId: doc.SecurityGroups[0]!.SecurityGroupId as string,
        securityGroupName: 'changed',
      }),
    );
    assert.equal(await again.stop(), 0);
    const r = await runCli([
      '--port',
      '0',
      '--data-dir',
      srv.dataDir,
      ...(PG_MODE ? ['--store', await databaseFor(srv.dataDir)] : []),
      '--seed',
      file,
    ]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^ecs-secgroup: --seed .*InvalidParameter\.Conflict: .*SecurityGroupName/,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  });

  test('a seed that is not JSON, or names an account that does not exist', async () => {
    const bad = join(tempDir(), 'bad.json');
    writeFileSync(bad, '{');
    const r = await runCli(['--port', '0', '--data-dir', tempDir(), '--seed', bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--seed .* is not JSON/);
    const other = join(tempDir(), 'other.json');
    writeFileSync(other, JSON.stringify({ ...JSON.parse(first), OwnerId: '1000000000000009' }));
    const s = await runCli(['--port', '0', '--data-dir', tempDir(), '--seed', other]);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /OwnerId 1000000000000009 is not an account here/);
  });
});

describe('direct mode and reset', { skip: PG_MODE && 'reset empties an SQLite data dir' }, () => {
  test('import into a stopped service, refused while one runs, reset after', async () => {
    const file = join(tempDir(), 'state.json');
    writeFileSync(file, first);
    const srv = await startServer();
    const busy = await cli('import', file, '--data-dir', srv.dataDir);
    assert.equal(busy.code, 2);
    assert.match(busy.stderr, /in use by a running ecs-secgroup \(pid \d+\)/);
    const resetBusy = await cli('reset', '--data-dir', srv.dataDir);
    assert.equal(resetBusy.code, 2);
    assert.equal(await srv.stop(), 0);
    const r = await cli('import', file, '--data-dir', srv.dataDir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /10 created/);
    const again = await startServer({ dataDir: srv.dataDir });
    assert.equal(await exported(again), first);
    assert.equal(await again.stop(), 0);

    const reset = await cli('reset', '--data-dir', srv.dataDir);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /removed ecs-secgroup\.db/);
    assert.ok(existsSync(join(srv.dataDir, 'tls', 'ca.pem')), 'the CA stays');
    const empty = await startServer({ dataDir: srv.dataDir });
    const doc = JSON.parse(await exported(empty)) as Doc;
    assert.deepEqual(doc.SecurityGroups, []);
    const twice = await cli('reset', '--data-dir', tempDir());
    assert.match(twice.stdout, /nothing to reset/);
  });

  test('usage errors name the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['reset'], /--data-dir DIR is required/],
      [['import'], /give one FILE/],
      [['import', '/nonexistent.json'], /cannot be read \(ENOENT\)/],
      [['export', '--data-dir', 'x', '--store', 'postgres://h/d'], /not both/],
      [['export', '--store', 'mysql://h/d'], /--store expects postgres/],
      [['export', '--bogus'], /bogus/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n {4}at /, 'no stack trace');
    }
  });
});
