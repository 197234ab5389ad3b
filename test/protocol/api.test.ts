/** The RPC protocol end to end: the real server over HTTP, the official clients, hand-signed requests. */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as $Ecs from '@alicloud/ecs20140526';
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import {
  ECS_VERSION,
  ecsClient,
  expectApiError,
  isoSeconds,
  popClient,
  type RawResponse,
  rawRequest,
  signedV1,
  signedV3,
} from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';

const REQUEST_ID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const ENVELOPE = ['Code', 'HostId', 'Message', 'Recommend', 'RequestId'];
const DR = { Action: 'DescribeRegions', Version: ECS_VERSION };
const MINUTE = 60_000;
interface RegionJson {
  RegionId: string;
  LocalName: string;
}

const SPECIAL = "it's (a) *test*! ~ok~ é 中文 😀 a+b=c&d/e %41";

let srv: TestServer;
before(async () => {
  srv = await startServer();
});
after(() => srv?.stop());

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

function hasKeyDeep(v: unknown, key: string): boolean {
  if (Array.isArray(v)) return v.some((x) => hasKeyDeep(x, key));
  if (v && typeof v === 'object') {
    return Object.entries(v).some(([k, x]) => k === key || hasKeyDeep(x, key));
  }
  return false;
}

function assertRegionsJson(r: RawResponse) {
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.match(r.body.RequestId, REQUEST_ID);
  assert.ok(Array.isArray(r.body.Regions.Region) && r.body.Regions.Region.length > 0);
  assert.equal(hasKeyDeep(r.body, 'Code'), false, 'a success body never carries Code');
}

/** Asserts the JSON error envelope: exactly the five fields, and the code and status. */
function assertJsonError(r: RawResponse, code: string, status: number) {
  assert.equal(r.status, status, r.text);
  assert.match(String(r.headers['content-type']), /^application\/json/, r.text);
  assert.deepEqual(Object.keys(r.body).sort(), ENVELOPE);
  assert.equal(r.body.Code, code, r.body.Message);
  assert.match(r.body.RequestId, REQUEST_ID);
  for (const k of ENVELOPE) assert.equal(typeof r.body[k], 'string', k);
}

function assertXmlError(r: RawResponse, code: string, status: number) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers['content-type'], 'text/xml;charset=utf-8');
  const doc = xml.parse(r.text);
  assert.deepEqual(
    Object.keys(doc).filter((k) => k !== '?xml'),
    ['Error'],
  );
  assert.deepEqual(Object.keys(doc.Error).sort(), ENVELOPE);
  assert.equal(doc.Error.Code, code);
  assert.match(doc.Error.RequestId, REQUEST_ID);
}

describe('DescribeRegions through every client shape', () => {
  test('@alicloud/ecs20140526, default signature v3', async () => {
    const r = await ecsClient(srv).describeRegions(new $Ecs.DescribeRegionsRequest({}));
    assert.equal(r.statusCode, 200);
    assert.match(r.body!.requestId!, REQUEST_ID);
    const ids = r.body!.regions!.region!.map((x) => x.regionId);
    assert.ok(ids.includes('cn-hangzhou'), ids.join());
  });

  test('@alicloud/ecs20140526 with signatureAlgorithm v2 (v1 signature)', async () => {
    const r = await ecsClient(srv, { v1: true }).describeRegions(
      new $Ecs.DescribeRegionsRequest({ acceptLanguage: 'en-US' }),
    );
    assert.equal(r.statusCode, 200);
    const hz = r.body!.regions!.region!.find((x) => x.regionId === 'cn-hangzhou');
    assert.equal(hz?.localName, 'China (Hangzhou)');
  });

  for (const method of ['GET', 'POST']) {
    test(`@alicloud/pop-core ${method}`, async () => {
      const r = await popClient(srv).request<{
        RequestId: string;
        Regions: { Region: RegionJson[] };
      }>('DescribeRegions', { AcceptLanguage: 'en-US' }, { method });
      assert.match(r.RequestId, REQUEST_ID);
      assert.equal(hasKeyDeep(r, 'Code'), false);
      const hz = r.Regions.Region.find((x) => x.RegionId === 'cn-hangzhou');
      assert.equal(hz?.LocalName, 'China (Hangzhou)');
    });
  }

  test('hand-signed v1 GET, POST query and POST form body (Terraform shape)', async () => {
    for (const shape of [
      { method: 'GET' as const },
      { method: 'POST' as const },
      { method: 'POST' as const, form: true },
    ]) {
      const r = await signedV1(srv, { ...DR, AcceptLanguage: 'en-US' }, shape);
      assertRegionsJson(r);
      const hz = r.body.Regions.Region.find((x: RegionJson) => x.RegionId === 'cn-hangzhou');
      assert.equal(hz.LocalName, 'China (Hangzhou)', JSON.stringify(shape));
    }
  });

  test('hand-signed v3', async () => {
    const r = await signedV3(srv, 'DescribeRegions', ECS_VERSION, { AcceptLanguage: 'en-US' });
    assertRegionsJson(r);
  });

  test('Format absent or XML: XML with root <DescribeRegionsResponse>', async () => {
    for (const format of [null, 'XML', 'xml']) {
      const r = await signedV1(srv, DR, { format });
      assert.equal(r.status, 200, r.text);
      assert.match(String(r.headers['content-type']), /^text\/xml/);
      assert.doesNotMatch(r.text, /<Code>/);
      const doc = xml.parse(r.text);
      assert.deepEqual(
        Object.keys(doc).filter((k) => k !== '?xml'),
        ['DescribeRegionsResponse'],
      );
      const body = doc.DescribeRegionsResponse;
      assert.match(body.RequestId, REQUEST_ID);
      const regions = [body.Regions.Region].flat();
      assert.ok(regions.some((x: RegionJson) => x.RegionId === 'cn-hangzhou'));
    }
  });

  test('Format JSON or json: JSON', async () => {
    for (const format of ['JSON', 'json']) assertRegionsJson(await signedV1(srv, DR, { format }));
  });

  test("a param value with !'()*~ and non-ASCII text verifies when signed correctly", async () => {
    for (const method of ['GET', 'POST'] as const) {
      for (const form of [false, true]) {
        const r = await signedV1(srv, { ...DR, ResourceType: SPECIAL }, { method, form });
        assertRegionsJson(r);
      }
    }
    assertRegionsJson(
      await signedV3(srv, 'DescribeRegions', ECS_VERSION, { ResourceType: SPECIAL }),
    );
  });

  test('empty business values are signed and accepted', async () => {
    assertRegionsJson(await signedV1(srv, { ...DR, ResourceType: '' }));
  });
});

describe('rejections: code and HTTP status', () => {
  test('unknown AccessKeyId → InvalidAccessKeyId.NotFound 404', async () => {
    const creds = { accessKeyId: 'nobody', secret: 'x' };
    assertJsonError(await signedV1(srv, DR, creds), 'InvalidAccessKeyId.NotFound', 404);
    assertJsonError(
      await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, creds),
      'InvalidAccessKeyId.NotFound',
      404,
    );
    await expectApiError(
      ecsClient(srv, creds).describeRegions(new $Ecs.DescribeRegionsRequest({})),
      'InvalidAccessKeyId.NotFound',
      404,
    );
    await expectApiError(
      popClient(srv, creds).request('DescribeRegions', {}),
      'InvalidAccessKeyId.NotFound',
      404,
    );
  });

  test('wrong secret → SignatureDoesNotMatch 400 (v1, v3, both SDKs)', async () => {
    const creds = { secret: 'wrong' };
    assertJsonError(await signedV1(srv, DR, creds), 'SignatureDoesNotMatch', 400);
    assertJsonError(
      await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, creds),
      'SignatureDoesNotMatch',
      400,
    );
    for (const v1 of [false, true]) {
      await expectApiError(
        ecsClient(srv, { ...creds, v1 }).describeRegions(new $Ecs.DescribeRegionsRequest({})),
        'SignatureDoesNotMatch',
        400,
      );
    }
    await expectApiError(
      popClient(srv, creds).request('DescribeRegions', {}),
      'SignatureDoesNotMatch',
    );
  });

  test('tampered params → SignatureDoesNotMatch 400', async () => {
    const tamper = (p: Record<string, string>) => {
      p.ResourceType = `${SPECIAL}x`;
    };
    for (const shape of [
      { method: 'GET' as const },
      { method: 'POST' as const },
      { method: 'POST' as const, form: true },
    ]) {
      const r = await signedV1(srv, { ...DR, ResourceType: SPECIAL }, { ...shape, tamper });
      assertJsonError(r, 'SignatureDoesNotMatch', 400);
    }
    // a param added after signing
    assertJsonError(
      await signedV1(srv, DR, { tamper: (p) => Object.assign(p, { RegionId: 'cn-beijing' }) }),
      'SignatureDoesNotMatch',
      400,
    );
    // v3: query value and a signed header changed after signing
    assertJsonError(
      await signedV3(
        srv,
        'DescribeRegions',
        ECS_VERSION,
        { ResourceType: SPECIAL },
        { tamper: (q) => Object.assign(q, { ResourceType: `${SPECIAL}x` }) },
      ),
      'SignatureDoesNotMatch',
      400,
    );
    assertJsonError(
      await signedV3(
        srv,
        'DescribeRegions',
        ECS_VERSION,
        {},
        { tamper: (_q, h) => Object.assign(h, { 'x-acs-signature-nonce': randomUUID() }) },
      ),
      'SignatureDoesNotMatch',
      400,
    );
  });

  test('v3 body not matching x-acs-content-sha256 → SignatureDoesNotMatch 400', async () => {
    assertJsonError(
      await signedV3(
        srv,
        'DescribeRegions',
        ECS_VERSION,
        {},
        {
          body: 'a=1',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          tamper: (_q, h) => Object.assign(h, { 'x-acs-content-sha256': 'ab'.repeat(32) }),
        },
      ),
      'SignatureDoesNotMatch',
      400,
    );
  });

  test('v3 SignedHeaders naming Object.prototype properties → SignatureDoesNotMatch, never a 500', async () => {
    for (const names of ['constructor', '__proto__', 'toString;hasOwnProperty', 'valueOf']) {
      const r = await signedV3(
        srv,
        'DescribeRegions',
        ECS_VERSION,
        {},
        {
          tamper: (_q, h) => {
            h.authorization = h.authorization!.replace(
              /SignedHeaders=([^,]*)/,
              (_m, list) => `SignedHeaders=${names};${list}`,
            );
          },
        },
      );
      assertJsonError(r, 'SignatureDoesNotMatch', 400);
    }
  });

  test('a nonce longer than 128 characters → InvalidParameter 400 naming it (v1 and v3)', async () => {
    const long = 'n'.repeat(129);
    const v1 = await signedV1(srv, DR, { nonce: long });
    assertJsonError(v1, 'InvalidParameter', 400);
    assert.match(v1.body.Message, /SignatureNonce.*128/);
    const v3 = await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, { nonce: long });
    assertJsonError(v3, 'InvalidParameter', 400);
    assert.match(v3.body.Message, /x-acs-signature-nonce.*128/);
    assertRegionsJson(await signedV1(srv, DR, { nonce: 'n'.repeat(128) }));
  });

  test('timestamp more than 15 minutes off, either way → InvalidTimeStamp.Expired 400', async () => {
    for (const off of [16 * MINUTE, -16 * MINUTE, 24 * 60 * MINUTE]) {
      assertJsonError(
        await signedV1(srv, DR, { timestamp: isoSeconds(off) }),
        'InvalidTimeStamp.Expired',
        400,
      );
      assertJsonError(
        await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, { date: isoSeconds(off) }),
        'InvalidTimeStamp.Expired',
        400,
      );
    }
    // within the window: accepted
    for (const off of [14 * MINUTE, -14 * MINUTE]) {
      assertRegionsJson(await signedV1(srv, DR, { timestamp: isoSeconds(off) }));
      assertRegionsJson(
        await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, { date: isoSeconds(off) }),
      );
    }
  });

  test('malformed timestamp → InvalidTimeStamp.Format 400', async () => {
    for (const timestamp of ['yesterday', '2016-02-23 12:46:24', '2016-13-45T99:99:99Z', '']) {
      assertJsonError(await signedV1(srv, DR, { timestamp }), 'InvalidTimeStamp.Format', 400);
    }
    assertJsonError(
      await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, { date: 'Tue, 01 Jan 2030' }),
      'InvalidTimeStamp.Format',
      400,
    );
  });

  test('reused nonce → SignatureNonceUsed 400 (v1 and v3)', async () => {
    const n1 = randomUUID();
    assertRegionsJson(await signedV1(srv, DR, { nonce: n1 }));
    assertJsonError(await signedV1(srv, DR, { nonce: n1 }), 'SignatureNonceUsed', 400);
    // also when the second request is otherwise different (POST, other params)
    assertJsonError(
      await signedV1(srv, { ...DR, AcceptLanguage: 'en-US' }, { nonce: n1, method: 'POST' }),
      'SignatureNonceUsed',
      400,
    );
    const n3 = randomUUID();
    assertRegionsJson(await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, { nonce: n3 }));
    assertJsonError(
      await signedV3(srv, 'DescribeRegions', ECS_VERSION, {}, { nonce: n3 }),
      'SignatureNonceUsed',
      400,
    );
  });

  test('a rejected request does not burn its nonce', async () => {
    const n = randomUUID();
    assertJsonError(
      await signedV1(srv, DR, { nonce: n, secret: 'wrong' }),
      'SignatureDoesNotMatch',
      400,
    );
    assertRegionsJson(await signedV1(srv, DR, { nonce: n }));
  });

  test('unknown action → InvalidAction.NotFound 404', async () => {
    assertJsonError(
      await signedV1(srv, { ...DR, Action: 'DescribeNothing' }),
      'InvalidAction.NotFound',
      404,
    );
    assertJsonError(
      await signedV3(srv, 'DescribeNothing', ECS_VERSION),
      'InvalidAction.NotFound',
      404,
    );
    await expectApiError(
      popClient(srv).request('DescribeNothing', {}),
      'InvalidAction.NotFound',
      404,
    );
  });

  test('wrong version → InvalidVersion 400', async () => {
    assertJsonError(await signedV1(srv, { ...DR, Version: '2099-01-01' }), 'InvalidVersion', 400);
    assertJsonError(await signedV3(srv, 'DescribeRegions', '2099-01-01'), 'InvalidVersion', 400);
    await expectApiError(
      popClient(srv, { apiVersion: '2013-01-10' }).request('DescribeRegions', {}),
      'InvalidVersion',
    );
  });

  test('missing Action or Version → MissingParameter 400 naming it', async () => {
    for (const name of ['Action', 'Version']) {
      const r = await signedV1(srv, DR, { omit: [name] });
      assertJsonError(r, 'MissingParameter', 400);
      assert.match(r.body.Message, new RegExp(`"${name}"`));
    }
    for (const name of ['Action', 'Version']) {
      const r = await signedV1(srv, { ...DR, [name]: '' });
      assertJsonError(r, 'MissingParameter', 400);
      assert.match(r.body.Message, new RegExp(`"${name}"`));
    }
  });

  test('errors are XML with root <Error> when Format is XML or absent', async () => {
    assertXmlError(
      await signedV1(srv, DR, { format: 'XML', secret: 'wrong' }),
      'SignatureDoesNotMatch',
      400,
    );
    assertXmlError(
      await signedV1(srv, { ...DR, Action: 'Nope' }, { format: null }),
      'InvalidAction.NotFound',
      404,
    );
    assertXmlError(
      await signedV1(srv, DR, { format: 'xml', accessKeyId: 'nobody' }),
      'InvalidAccessKeyId.NotFound',
      404,
    );
  });

  // pop-core POST sends every param, Format=JSON included, in the form body and JSON.parses
  // any reply: an XML error makes it throw a bare SyntaxError instead of the coded error.
  test('pop-core POST (Format=JSON in the form body): errors come back as JSON', async () => {
    await expectApiError(
      popClient(srv, { secret: 'wrong' }).request('DescribeRegions', {}, { method: 'POST' }),
      'SignatureDoesNotMatch',
    );
    await expectApiError(
      popClient(srv).request('DescribeNothing', {}, { method: 'POST' }),
      'InvalidAction.NotFound',
      404,
    );
    await expectApiError(
      popClient(srv, { accessKeyId: 'nobody' }).request('DescribeRegions', {}, { method: 'POST' }),
      'InvalidAccessKeyId.NotFound',
      404,
    );
  });

  test('the v3 SDK error carries the whole envelope', async () => {
    const e = await expectApiError(
      ecsClient(srv, { secret: 'wrong' }).describeRegions(new $Ecs.DescribeRegionsRequest({})),
      'SignatureDoesNotMatch',
      400,
    );
    assert.deepEqual(Object.keys(e.data ?? {}).sort(), ENVELOPE);
  });
});

describe('HTTP transport', () => {
  test('GET /health → 200 {"status":"ok"}', async () => {
    const r = await rawRequest(srv, { path: '/health' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
  });

  test('methods other than GET and POST → 405 with an error envelope', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await rawRequest(srv, { method, path: '/?Format=JSON' });
      assert.equal(r.status, 405, `${method}: ${r.text}`);
      assert.deepEqual(Object.keys(r.body).sort(), ENVELOPE);
    }
  });

  const BIG = 1024 * 1024 + 1;

  test('a body over 1 MiB (declared length) → 413 JSON envelope, then the server still serves', async () => {
    const r = await rawRequest(srv, {
      method: 'POST',
      path: '/?Format=JSON',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': BIG },
      body: Buffer.alloc(BIG, 'a'),
    }).catch((e: Error) => e);
    // The server may close before reading everything; then the client sees a reset.
    if (r instanceof Error) {
      assert.match(r.message, /EPIPE|ECONNRESET|socket hang up/);
    } else {
      assert.equal(r.status, 413, r.text);
      assert.equal(typeof r.body, 'object', r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ENVELOPE);
    }
    assertRegionsJson(await signedV1(srv, DR));
  });

  test('a chunked body over 1 MiB (no length) → 413 XML envelope without Format, then still serving', async () => {
    const r = await rawRequest(srv, {
      method: 'POST',
      path: '/',
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(BIG + 4096, 'b'),
    }).catch((e: Error) => e);
    if (r instanceof Error) {
      assert.match(r.message, /EPIPE|ECONNRESET|socket hang up/);
    } else {
      assertXmlError(r, 'RequestTooLarge', 413);
    }
    assert.equal((await rawRequest(srv, { path: '/health' })).status, 200);
    assertRegionsJson(await signedV1(srv, DR));
  });

  test('a body of exactly 1 MiB is read (and rejected only for its content)', async () => {
    const body = Buffer.alloc(1024 * 1024, 'c');
    const r = await rawRequest(srv, {
      method: 'POST',
      path: '/?Format=JSON',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });
    assert.ok(r.status >= 400 && r.status < 500 && r.status !== 413, `${r.status} ${r.text}`);
  });

  test('garbage never yields a 5xx', async () => {
    const cases: {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: Buffer | string;
    }[] = [
      { path: '/?Action=%ZZ&Version=%&Format=JSON' },
      { path: '/?%E0%A4%A&=&&&=x&Format=JSON' },
      { path: '/?Action=DescribeRegions&Action=Other&Version=2014-05-26' },
      { path: '/nowhere?Format=JSON' },
      { path: `/?${'A'.repeat(8000)}=1` },
      { path: '/', method: 'POST', body: randomBytes(4096) },
      {
        path: '/?Format=JSON',
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: randomBytes(4096),
      },
      { path: '/', method: 'POST', headers: { 'content-type': 'text/plain' }, body: '%%%%' },
      { path: '/', headers: { authorization: 'ACS3-HMAC-SHA256 garbage' } },
      {
        path: '/',
        headers: {
          authorization: 'ACS3-HMAC-SHA256 Credential=test,SignedHeaders=host,Signature=00',
        },
      },
      {
        path: '/',
        headers: {
          authorization: 'ACS3-HMAC-SHA256 Credential=test,SignedHeaders=,Signature=',
          'x-acs-action': 'DescribeRegions',
          'x-acs-version': ECS_VERSION,
          'x-acs-date': isoSeconds(),
          'x-acs-signature-nonce': randomUUID(),
        },
      },
      { path: '/', headers: { authorization: 'HMAC-SHA1 whatever' } },
      { path: `/?${new URLSearchParams({ ...DR, SignatureMethod: 'HMAC-SHA256' })}` },
    ];
    for (const c of cases) {
      const headers = { ...c.headers };
      if (c.body !== undefined) headers['content-length'] = String(Buffer.byteLength(c.body));
      const r = await rawRequest(srv, { ...c, headers });
      assert.ok(
        r.status >= 400 && r.status < 500,
        `${JSON.stringify(c).slice(0, 200)} → ${r.status} ${r.text}`,
      );
    }
  });

  test('random query strings and bodies never yield a 5xx', async () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'Action',
        'Version',
        'Format',
        'Signature',
        'Timestamp',
        'SignatureNonce',
        'AccessKeyId',
        '%',
        '%2',
        '&',
        '=',
        '+',
      ),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 12 }),
        fc.uint8Array({ maxLength: 256 }),
        fc.constantFrom('GET', 'POST'),
        async (parts, bytes, method) => {
          const query = parts
            .join('')
            .replace(/[^\x21-\x7e]/g, (ch) => encodeURIComponent(ch).replace(/%$/, ''));
          const body = method === 'POST' ? Buffer.from(bytes) : undefined;
          const r = await rawRequest(srv, {
            method,
            path: `/?${query.replace(/#/g, '%23')}`,
            headers: body
              ? {
                  'content-type': 'application/x-www-form-urlencoded',
                  'content-length': body.length,
                }
              : {},
            body,
          });
          assert.ok(r.status < 500, `${method} /?${query} → ${r.status} ${r.text}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('50 concurrent requests all succeed', async () => {
    const rs = await Promise.all(Array.from({ length: 50 }, () => signedV1(srv, DR)));
    for (const r of rs) assertRegionsJson(r);
  });
});
