/** The command line: flags, accounts files, start-up output, and shutdown on signals. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ECS_VERSION,
  encodeParams,
  type RawResponse,
  rawRequest,
  signedV1,
  v1Params,
} from './helpers/clients.js';
import { PG_MODE } from './helpers/pg.js';
import { runCli, startServer, type TestServer, tempDir } from './helpers/server.js';

const DR = { Action: 'DescribeRegions', Version: ECS_VERSION };

const TWO_ACCOUNTS = {
  accounts: [
    {
      uid: '1000000000000002',
      name: 'alice',
      accessKeys: [
        { id: 'alice-key-1', secret: 'alice-secret-1' },
        { id: 'alice-key-2', secret: 'alice-secret-2' },
      ],
    },
    {
      uid: '1000000000000003',
      name: 'bob',
      accessKeys: [{ id: 'bob-key', secret: 'bob-secret' }],
    },
  ],
};

describe('flags', () => {
  test('--help and -h exit 0 with the usage', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Usage: ecs-secgroup/);
      assert.match(r.stdout, /--port/);
      assert.match(r.stdout, /--accounts/);
    }
  });

  test('--port 0 picks a free port and prints the data dir and the default keys', async (t) => {
    const a = await startServer();
    const b = await startServer();
    t.after(() => Promise.all([a.stop(), b.stop()]));
    assert.ok(a.port > 0 && b.port > 0);
    assert.notEqual(a.port, b.port);
    const line = a.stdout().split('\n')[0]!;
    assert.match(line, /^ecs-secgroup listening on http:\/\/127\.0\.0\.1:\d+ /);
    // Where the state lives: the data dir, or (suite run on PostgreSQL) the database URL.
    if (PG_MODE) assert.match(line, /\(store postgres:\/\/[^ ]*ecssg_t_/);
    else assert.ok(line.includes(a.dataDir), line);
    assert.match(line, /AccessKeyId=test AccessKeySecret=test/);
    const health = await rawRequest(a, { path: '/health' });
    assert.equal(health.status, 200);
    const r = await signedV1(a, DR);
    assert.equal(r.status, 200, r.text);
  });

  test('bad flags and values exit 2 with a message naming them', async () => {
    const dataDir = tempDir();
    const cases: [string[], RegExp][] = [
      [['--bogus'], /bogus/],
      [['--port', 'abc'], /--port/],
      [['--port', '70000'], /--port/],
      [['--port', '-1'], /port/],
      [['--log-level', 'loud'], /--log-level/],
      [['--duplicate-rules', 'maybe'], /--duplicate-rules/],
      [['--max-rules-per-group', '0'], /--max-rules-per-group/],
      [['--max-groups-per-region', 'x'], /--max-groups-per-region/],
      [['frobnicate'], /frobnicate/],
      [['--port'], /port/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli([...args, '--data-dir', dataDir]);
      assert.equal(r.code, 2, `${args.join(' ')}: code ${r.code} ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stdout, /listening/);
    }
  });
});

describe('--accounts', () => {
  test('two accounts: each of their keys authenticates; others do not', async (t) => {
    const srv = await startServer({ accounts: TWO_ACCOUNTS });
    t.after(() => srv.stop());
    assert.match(srv.stdout(), /2 account\(s\)/);
    for (const a of TWO_ACCOUNTS.accounts) {
      for (const k of a.accessKeys) {
        const r = await signedV1(srv, DR, { accessKeyId: k.id, secret: k.secret });
        assert.equal(r.status, 200, `${k.id}: ${r.text}`);
      }
    }
    const unknown = await signedV1(srv, DR, { accessKeyId: 'carol', secret: 'x' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.Code, 'InvalidAccessKeyId.NotFound');
    // the built-in default key is not there when an accounts file is given
    const dflt = await signedV1(srv, DR, { accessKeyId: 'test', secret: 'test' });
    assert.equal(dflt.body.Code, 'InvalidAccessKeyId.NotFound');
    // a key with another key's secret
    const crossed = await signedV1(srv, DR, { accessKeyId: 'alice-key-1', secret: 'bob-secret' });
    assert.equal(crossed.body.Code, 'SignatureDoesNotMatch');
  });

  const key = (id: string) => ({ id, secret: `${id}-secret` });
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{"accounts": [', /not valid JSON/],
    ['no accounts array', '{"users": []}', /"accounts"/],
    ['no accounts', '{"accounts": []}', /empty/],
    ['missing uid', JSON.stringify({ accounts: [{ name: 'a', accessKeys: [key('k1')] }] }), /uid/],
    [
      'duplicate key id',
      JSON.stringify({
        accounts: [
          { uid: '1000000000000002', name: 'a', accessKeys: [key('k1')] },
          { uid: '1000000000000003', name: 'b', accessKeys: [key('k1')] },
        ],
      }),
      /k1 is used twice/,
    ],
    [
      'empty accessKeys',
      JSON.stringify({ accounts: [{ uid: '1000000000000002', name: 'a', accessKeys: [] }] }),
      /accessKeys/,
    ],
    [
      'key without secret',
      JSON.stringify({
        accounts: [{ uid: '1000000000000002', name: 'a', accessKeys: [{ id: 'k' }] }],
      }),
      /secret/,
    ],
  ];
  for (const [what, content, message] of bad) {
    test(`malformed accounts file (${what}) stops start-up with exit 2`, async () => {
      const dir = tempDir();
      const file = join(dir, 'accounts.json');
      writeFileSync(file, content);
      const r = await runCli(['--port', '0', '--data-dir', dir, '--accounts', file]);
      assert.equal(r.code, 2, `code ${r.code}; stdout ${r.stdout}; stderr ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.ok(r.stderr.includes(file), 'the message names the file');
      assert.doesNotMatch(r.stdout, /listening/);
    });
  }

  test('a missing accounts file stops start-up with exit 2', async () => {
    const dir = tempDir();
    const file = join(dir, 'nope.json');
    const r = await runCli(['--port', '0', '--data-dir', dir, '--accounts', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot be read/);
  });
});

/**
 * A v1 POST with every param in the form body, sent in two halves: the first now, the
 * rest when `finish()` is called. Resolves with the response once the server answers.
 */
function slowRequest(srv: TestServer): { finish(): void; response: Promise<RawResponse> } {
  const body = Buffer.from(
    encodeParams(v1Params('POST', { ...DR, AcceptLanguage: 'en-US' }, { format: 'JSON' })),
  );
  const half = Math.floor(body.length / 2);
  let finish = () => {};
  const response = new Promise<RawResponse>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: srv.port,
        method: 'POST',
        path: '/',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': body.length,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(text),
            text,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, half));
    finish = () => req.end(body.subarray(half));
  });
  return { finish: () => finish(), response };
}

describe('shutdown', () => {
  test('SIGTERM with requests in flight: they complete, then exit code 0', async () => {
    const srv = await startServer();
    const inflight = Array.from({ length: 5 }, () => slowRequest(srv));
    await sleep(200); // let the server receive the headers and first halves
    const code = srv.stop('SIGTERM');
    await sleep(300);
    assert.equal(srv.proc.exitCode, null, 'the server waits for in-flight requests');
    for (const r of inflight) r.finish();
    const responses = await Promise.all(inflight.map((r) => r.response));
    for (const r of responses) {
      assert.equal(r.status, 200, r.text);
      assert.ok(Array.isArray(r.body.Regions.Region));
    }
    assert.equal(await code, 0);
    assert.equal((await srv.exited).signal, null);
  });

  test('SIGTERM refuses new connections while draining', async () => {
    const srv = await startServer();
    const slow = slowRequest(srv);
    await sleep(200);
    const code = srv.stop('SIGTERM');
    await sleep(200);
    await assert.rejects(rawRequest(srv, { path: '/health', timeoutMs: 2000 }), /ECONNREFUSED/);
    slow.finish();
    assert.equal((await slow.response).status, 200);
    assert.equal(await code, 0);
  });

  test('SIGINT closes cleanly with exit code 0', async () => {
    const srv = await startServer();
    assert.equal((await signedV1(srv, DR)).status, 200);
    assert.equal(await srv.stop('SIGINT'), 0);
  });

  test('SIGTERM right after start-up (idle keep-alive connection open) exits 0 promptly', async () => {
    const srv = await startServer();
    const r = await fetch(`${srv.url}/health`); // undici keeps the connection alive
    assert.equal(r.status, 200);
    await r.text();
    const started = Date.now();
    assert.equal(await srv.stop('SIGTERM', 8000), 0);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
});
