/** The RPC pipeline with a stand-in action table: internal failures and envelopes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryNonceCache } from '../../src/nonces/memory.js';
import { createProtocol } from '../../src/protocol/handler.js';
import {
  bodyLength,
  rawJson,
  renderedText,
  renderSuccess,
  reusable,
} from '../../src/protocol/render.js';
import { encodeParams, v1Params } from '../helpers/sign.js';

function pipeline(run: () => Promise<Record<string, unknown>>) {
  const logged: unknown[] = [];
  const handle = createProtocol({
    credentials: (id) => (id === 'test' ? { secret: 'test', principal: { uid: '1' } } : undefined),
    nonces: new MemoryNonceCache(),
    actions: {
      hasVersion: (v) => v === '2014-05-26',
      lookup: (_v, a) => (a === 'Boom' ? run : undefined),
    },
    hostId: 'test-host',
    onInternalError: (err) => logged.push(err),
  });
  const call = (format: string) => {
    const params = v1Params('GET', { Action: 'Boom', Version: '2014-05-26' }, { format });
    return handle({
      method: 'GET',
      path: '/',
      rawQuery: encodeParams(params),
      headers: {},
      body: Buffer.alloc(0),
    });
  };
  return { call, logged };
}

test('an unexpected failure is InternalError 500, logged, with no detail to the client', async () => {
  const { call, logged } = pipeline(async () => {
    throw new Error('secret detail: /var/lib/db is on fire');
  });
  const r = await call('JSON');
  assert.equal(r.status, 500);
  const body = JSON.parse(String(r.body));
  assert.deepEqual(Object.keys(body).sort(), [
    'Code',
    'HostId',
    'Message',
    'Recommend',
    'RequestId',
  ]);
  assert.equal(body.Code, 'InternalError');
  assert.equal(body.HostId, 'test-host');
  assert.match(body.RequestId, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  assert.doesNotMatch(String(r.body), /fire/);
  assert.equal(logged.length, 1);
  const xml = await call('XML');
  assert.equal(xml.status, 500);
  assert.match(
    String(xml.body),
    /^<\?xml[^>]*\?><Error><RequestId>[^<]+<\/RequestId><HostId>test-host<\/HostId><Code>InternalError<\/Code>/,
  );
});

test('a success body starts with RequestId and keeps the RequestId an action replays', async () => {
  const { call } = pipeline(async () => ({ RequestId: 'FIRST-RESPONSE-ID', Value: 1 }));
  const r = await call('JSON');
  assert.equal(r.status, 200);
  assert.equal(r.body, '{"RequestId":"FIRST-RESPONSE-ID","Value":1}');
});

test('a reusable result renders as a fresh one would, with each request its own RequestId', async () => {
  const shared = reusable({
    Name: 'a<b',
    List: { Item: [1, 2] },
    Raw: rawJson('Raw', '{"X":"y"}'),
  });
  const plain = { Name: 'a<b', List: { Item: [1, 2] }, Raw: rawJson('Raw', '{"X":"y"}') };
  for (const format of ['json', 'xml'] as const) {
    const fresh = renderedText(renderSuccess('Act', 'ID-1', plain, format).body);
    const first = renderSuccess('Act', 'ID-1', shared, format);
    const again = renderSuccess('Act', 'ID-2', shared, format);
    assert.ok(Array.isArray(first.body), 'bytes in parts, the tail kept');
    assert.equal(renderedText(first.body), fresh);
    assert.equal(renderedText(again.body), fresh.replace('ID-1', 'ID-2'));
    assert.equal(bodyLength(again.body), Buffer.byteLength(fresh));
    assert.equal(
      (again.body as Buffer[])[1],
      (first.body as Buffer[])[1],
      'the tail is not copied',
    );
  }
  const empty = reusable({});
  assert.equal(renderedText(renderSuccess('Act', 'ID', empty, 'json').body), '{"RequestId":"ID"}');
  assert.equal(
    renderedText(renderSuccess('Act', 'ID', empty, 'xml').body),
    renderedText(renderSuccess('Act', 'ID', {}, 'xml').body),
  );
});
