/**
 * What operators see: the access log (one JSON line per request), Prometheus metrics on a
 * port of their own, and per-key throttling.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ECS_VERSION, signedV1 } from './helpers/clients.js';
import { startServer, type TestServer } from './helpers/server.js';

const DR = { Action: 'DescribeRegions', Version: ECS_VERSION };

/** The JSON lines the server wrote on stderr so far. */
function logLines(srv: TestServer): Record<string, unknown>[] {
  return srv
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function until<T>(f: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('access log and metrics', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ args: ['--metrics-port', '0'] });
  });
  after(() => srv?.stop());

  test('one JSON line per request with its time, ids, action, account, status, code, latency, peer, size', async () => {
    const ok = await signedV1(srv, DR);
    const bad = await signedV1(srv, DR, { secret: 'wrong' });
    const okLine = await until(() =>
      logLines(srv).find((l) => l.msg === 'request' && l.requestId === ok.body.RequestId),
    );
    assert.equal(okLine.level, 'info');
    assert.match(String(okLine.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(okLine.action, 'DescribeRegions');
    assert.equal(okLine.version, ECS_VERSION);
    assert.equal(okLine.uid, '1000000000000001');
    assert.equal(okLine.accessKeyId, 'test');
    assert.equal(okLine.status, 200);
    assert.equal(okLine.code, '');
    assert.equal(typeof okLine.latencyMs, 'number');
    assert.equal(okLine.remote, '127.0.0.1');
    assert.equal(okLine.bytes, 0);
    const badLine = await until(() =>
      logLines(srv).find((l) => l.msg === 'request' && l.requestId === bad.body.RequestId),
    );
    assert.equal(badLine.status, 400);
    assert.equal(badLine.code, 'SignatureDoesNotMatch');
    assert.equal(badLine.uid, '', 'not authenticated');
  });

  test('/metrics on --metrics-port, in Prometheus text format', async () => {
    const port = Number(/metrics on port (\d+)/.exec(srv.stdout())?.[1]);
    assert.ok(port > 0, srv.stdout());
    await signedV1(srv, DR);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^text\/plain/);
    const text = await res.text();
    const value = (name: string, labels = '') => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
      assert.ok(line, `${name}${labels} in ${text.slice(0, 2000)}`);
      return Number(line.split(' ').pop());
    };
    assert.ok(value('ecs_secgroup_requests_total', '{action="DescribeRegions",code=""}') >= 1);
    assert.ok(
      value('ecs_secgroup_requests_total', '{action="(none)",code="SignatureDoesNotMatch"}') >= 1,
    );
    assert.ok(
      value('ecs_secgroup_request_duration_seconds_count', '{action="DescribeRegions"}') >= 1,
    );
    assert.equal(value('ecs_secgroup_model_objects', '{kind="rules"}'), 0);
    assert.ok(value('ecs_secgroup_nonces') >= 2);
    assert.ok(value('ecs_secgroup_nonce_bytes') > 0);
    assert.equal(value('ecs_secgroup_throttled_requests_total'), 0);
    assert.ok(value('ecs_secgroup_engine_decisions_total') >= 0);
    await signedV1(srv, {
      Action: 'CreateSecurityGroup',
      Version: ECS_VERSION,
      RegionId: 'cn-hangzhou',
    });
    const again = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(again, /ecs_secgroup_store_commit_duration_seconds_count \d+/);
    assert.match(again, /ecs_secgroup_model_objects\{kind="groups"\} 1/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  });
});

describe('throttling per AccessKeyId', () => {
  test('past its rate a key gets Throttling.User; another key is served; nothing is written', async () => {
    const srv = await startServer({
      args: ['--throttle-rate', '2', '--throttle-burst', '3', '--log-level', 'warn'],
      accounts: {
        accounts: [
          { uid: '1000000000000021', name: 'a', accessKeys: [{ id: 'AKA', secret: 'sa' }] },
          { uid: '1000000000000022', name: 'b', accessKeys: [{ id: 'AKB', secret: 'sb' }] },
        ],
      },
    });
    try {
      const a = { accessKeyId: 'AKA', secret: 'sa' };
      const create = () =>
        signedV1(
          srv,
          { Action: 'CreateSecurityGroup', Version: ECS_VERSION, RegionId: 'cn-hangzhou' },
          a,
        );
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await create()).body.Code ?? 'OK');
      assert.deepEqual(codes.slice(0, 3), ['OK', 'OK', 'OK']);
      assert.ok(
        codes.slice(3).every((c) => c === 'Throttling.User'),
        codes.join(),
      );
      const other = await signedV1(srv, DR, { accessKeyId: 'AKB', secret: 'sb' });
      assert.equal(other.status, 200);
      const list = await signedV1(
        srv,
        { Action: 'DescribeSecurityGroups', Version: ECS_VERSION, RegionId: 'cn-hangzhou' },
        { accessKeyId: 'AKB', secret: 'sb' },
      );
      assert.equal(list.status, 200);
      // a throttled call wrote nothing: A has exactly the 3 groups acknowledged
      await new Promise((r) => setTimeout(r, 1100));
      const mine = await signedV1(
        srv,
        { Action: 'DescribeSecurityGroups', Version: ECS_VERSION, RegionId: 'cn-hangzhou' },
        a,
      );
      assert.equal(mine.body.TotalCount, 3);
    } finally {
      await srv.stop();
    }
  });

  test('--throttle-rate 0 turns it off', async () => {
    const srv = await startServer({ args: ['--throttle-rate', '0', '--throttle-burst', '1'] });
    try {
      const all = await Promise.all(Array.from({ length: 20 }, () => signedV1(srv, DR)));
      assert.ok(all.every((r) => r.status === 200));
    } finally {
      await srv.stop();
    }
  });
});
