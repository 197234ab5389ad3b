/**
 * HTTPS and plain HTTP on one port: the local CA made at first start, the user's own
 * certificate, the official SDK over HTTPS (CA trusted through NODE_EXTRA_CA_CERTS), curl
 * --cacert, and connections that never finish a handshake.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadOrCreateTls } from '../src/tls.js';
import { ECS_VERSION, encodeParams, signedV1, v1Params } from './helpers/clients.js';
import { runCli, startServer, type TestServer, tempDir } from './helpers/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DR = { Action: 'DescribeRegions', Version: ECS_VERSION };
const run = promisify(execFile);

/** One HTTPS GET trusting `ca`; resolves to status and body. */
function httpsGet(
  srv: TestServer,
  path: string,
  ca: string,
  servername = 'localhost',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: srv.port, path, ca, servername, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when the server closes the connection, with how long it took (ms). */
function closedWithin(sendFirst: Buffer | null, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = connect(port, '127.0.0.1', () => {
      if (sendFirst) s.write(sendFirst);
    });
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => resolve(Date.now() - started));
    setTimeout(() => reject(new Error('the server kept the connection open')), 15_000).unref();
  });
}

describe('the local CA', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({
      freshTls: true,
      args: ['--tls-hostname', 'ecs.internal.test', '--header-timeout', '2000'],
    });
  });
  after(() => srv?.stop());

  test('is made at first start in DIR/tls, named in the start-up line, keys readable by the owner only', () => {
    assert.match(srv.stdout(), new RegExp(`CA certificate ${srv.caFile.replaceAll('/', '\\/')}`));
    assert.match(
      srv.stdout(),
      /listening on http:\/\/127\.0\.0\.1:\d+ and https:\/\/127\.0\.0\.1:\d+/,
    );
    for (const f of ['ca-key.pem', 'server-key.pem']) {
      assert.equal(statSync(join(srv.dataDir, 'tls', f)).mode & 0o777, 0o600, f);
    }
    const ca = new X509Certificate(readFileSync(srv.caFile));
    const cert = new X509Certificate(readFileSync(join(srv.dataDir, 'tls', 'server.pem')));
    assert.ok(ca.ca, 'ca.pem is a CA');
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by the CA');
    for (const name of ['localhost', 'ecs.internal.test']) assert.ok(cert.checkHost(name), name);
    for (const ip of ['127.0.0.1', '::1']) assert.ok(cert.checkIP(ip), ip);
  });

  test('HTTPS and plain HTTP are both served on the one port', async () => {
    const ca = readFileSync(srv.caFile, 'utf8');
    for (const name of ['localhost', 'ecs.internal.test']) {
      const r = await httpsGet(srv, '/health', ca, name);
      assert.deepEqual(r, { status: 200, body: '{"status":"ok"}' });
    }
    const signed = `/?${encodeParams(v1Params('GET', DR))}`;
    const overTls = await httpsGet(srv, signed, ca);
    assert.equal(overTls.status, 200, overTls.body);
    assert.ok(JSON.parse(overTls.body).Regions.Region.length > 0);
    const plain = await signedV1(srv, DR);
    assert.equal(plain.status, 200, plain.text);
    await assert.rejects(httpsGet(srv, '/health', ca, 'not-in-the-certificate.test'));
  });

  test('the official SDK over HTTPS, the CA trusted through NODE_EXTRA_CA_CERTS', async () => {
    const script = `
      import EcsMod, * as $Ecs from '@alicloud/ecs20140526';
      import { $OpenApiUtil } from '@alicloud/openapi-core';
      const ecs = new EcsMod.default(new $OpenApiUtil.Config({
        accessKeyId: 'test', accessKeySecret: 'test', regionId: 'cn-hangzhou',
        endpoint: 'localhost:${srv.port}', protocol: 'https' }));
      const g = await ecs.createSecurityGroup(new $Ecs.CreateSecurityGroupRequest({ regionId: 'cn-hangzhou' }));
      const r = await ecs.describeSecurityGroups(new $Ecs.DescribeSecurityGroupsRequest({ regionId: 'cn-hangzhou' }));
      console.log(JSON.stringify({ id: g.body.securityGroupId, ids: r.body.securityGroups.securityGroup.map((x) => x.securityGroupId) }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: srv.caFile },
    });
    const out = JSON.parse(stdout);
    assert.match(out.id, /^sg-/);
    assert.ok(out.ids.includes(out.id));
    // without the CA the SDK refuses the certificate
    await assert.rejects(
      run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }),
      /certificate/i,
    );
  });

  test('curl --cacert', { skip: spawnSync('curl', ['--version']).status !== 0 }, async () => {
    const url = `https://localhost:${srv.port}/?${encodeParams(v1Params('GET', DR))}`;
    const { stdout } = await run('curl', ['-sS', '--fail', '--cacert', srv.caFile, url]);
    assert.ok(JSON.parse(stdout).Regions.Region.length > 0);
    await assert.rejects(run('curl', ['-sS', '--fail', `https://localhost:${srv.port}/health`]));
  });

  test('garbage after the handshake byte, and a handshake left half-done, close that connection only', async () => {
    const garbage = Buffer.concat([
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05]),
      Buffer.from('xyzzy'),
    ]);
    // the first bytes of a ClientHello, then nothing
    const half = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
    const waits = await Promise.all([
      ...Array.from({ length: 20 }, () => closedWithin(garbage, srv.port)),
      ...Array.from({ length: 20 }, () => closedWithin(half, srv.port)),
      ...Array.from({ length: 5 }, () => closedWithin(null, srv.port)),
    ]);
    for (const w of waits.slice(0, 20)) assert.ok(w < 2000, `garbage closed after ${w} ms`);
    // half-open handshakes and silent connections end at the header timeout (2 s here)
    for (const w of waits.slice(20)) assert.ok(w >= 1500 && w < 8000, `closed after ${w} ms`);
    assert.equal((await signedV1(srv, DR)).status, 200);
    assert.equal(srv.proc.exitCode, null, 'still running');
  });

  test('a restart keeps the CA; a new --tls-hostname gets a new server certificate from it', async () => {
    const before = readFileSync(srv.caFile, 'utf8');
    const cert1 = readFileSync(join(srv.dataDir, 'tls', 'server.pem'), 'utf8');
    await srv.stop();
    srv = await startServer({
      dataDir: srv.dataDir,
      args: ['--tls-hostname', 'ecs.internal.test'],
    });
    assert.equal(readFileSync(join(srv.dataDir, 'tls', 'server.pem'), 'utf8'), cert1, 'kept');
    await srv.stop();
    srv = await startServer({ dataDir: srv.dataDir, args: ['--tls-hostname', 'other.test'] });
    assert.equal(readFileSync(srv.caFile, 'utf8'), before, 'the CA stays');
    const cert2 = new X509Certificate(readFileSync(join(srv.dataDir, 'tls', 'server.pem')));
    assert.ok(cert2.checkHost('other.test'));
    const r = await httpsGet(srv, '/health', before, 'other.test');
    assert.equal(r.status, 200);
  });
});

describe("the user's own certificate", () => {
  test('--tls-cert and --tls-key serve it (no CA is made)', async () => {
    const own = tempDir();
    const made = loadOrCreateTls({ dataDir: own, hostnames: ['own.test'] });
    const srv = await startServer({
      freshTls: true,
      args: [
        '--tls-cert',
        join(own, 'tls', 'server.pem'),
        '--tls-key',
        join(own, 'tls', 'server-key.pem'),
      ],
    });
    try {
      assert.doesNotMatch(srv.stdout(), /CA certificate/);
      const r = await httpsGet(srv, '/health', readFileSync(made.caFile!, 'utf8'), 'own.test');
      assert.equal(r.status, 200);
    } finally {
      await srv.stop();
    }
  });

  test('unusable TLS settings stop start-up with exit code 2 and one line naming the problem', async () => {
    const own = tempDir();
    loadOrCreateTls({ dataDir: own, hostnames: [] });
    const other = tempDir();
    loadOrCreateTls({ dataDir: other, hostnames: [] });
    const dir = tempDir();
    const cases: [string[], RegExp][] = [
      [['--tls-cert', join(own, 'tls', 'server.pem')], /--tls-cert and --tls-key go together/],
      [
        ['--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent-key.pem'],
        /--tls-cert \/nonexistent\.pem cannot be read \(ENOENT\)/,
      ],
      [
        [
          '--tls-cert',
          join(own, 'tls', 'server.pem'),
          '--tls-key',
          join(other, 'tls', 'server-key.pem'),
        ],
        /--tls-cert .* \/ --tls-key .*: .*key values mismatch/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['--port', '0', '--data-dir', dir, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
