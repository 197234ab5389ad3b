/** src/protocol/signature.ts and encode.ts against published vectors and the official SDK's signer. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { OpenApiUtil } from '@alicloud/openapi-core';
import fc from 'fast-check';
import { percentEncode } from '../../src/protocol/encode.js';
import {
  signV1,
  signV3,
  v1StringToSign,
  v3CanonicalRequest,
  v3StringToSign,
} from '../../src/protocol/signature.js';
import { rfc3986, v1SignRef, v1StringToSignRef, v3CanonicalRef } from '../helpers/clients.js';

/** The v1 example of the Alibaba Cloud docs ("Signature method", RPC style, DescribeRegions). */
const DOCS_PARAMS: [string, string][] = [
  ['Action', 'DescribeRegions'],
  ['Version', '2014-05-26'],
  ['Format', 'XML'],
  ['AccessKeyId', 'testid'],
  ['SignatureMethod', 'HMAC-SHA1'],
  ['SignatureNonce', '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf'],
  ['SignatureVersion', '1.0'],
  ['Timestamp', '2016-02-23T12:46:24Z'],
];
const DOCS_STRING_TO_SIGN =
  'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1' +
  '%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0' +
  '%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26';
const DOCS_SIGNATURE = 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=';

/** Strings without lone surrogates (encodeURIComponent rejects those; no client sends them). */
const text = () => fc.string({ unit: 'grapheme', maxLength: 40 });

describe('percentEncode', () => {
  test("encodes !'()* and keeps ~", () => {
    assert.equal(percentEncode("!'()*~"), '%21%27%28%29%2A~');
  });

  test('encodes space as %20, and reserved characters', () => {
    assert.equal(
      percentEncode('a b+c/d=e&f:g,h;i?j#k@l$m'),
      'a%20b%2Bc%2Fd%3De%26f%3Ag%2Ch%3Bi%3Fj%23k%40l%24m',
    );
  });

  test('keeps the unreserved set', () => {
    const unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
    assert.equal(percentEncode(unreserved), unreserved);
  });

  test('encodes non-ASCII as upper-case UTF-8 bytes', () => {
    assert.equal(percentEncode('é'), '%C3%A9');
    assert.equal(percentEncode('中文'), '%E4%B8%AD%E6%96%87');
    assert.equal(percentEncode('😀'), '%F0%9F%98%80');
    assert.equal(percentEncode('%'), '%25');
  });

  test('agrees with a byte-wise RFC 3986 encoder on any text', () => {
    fc.assert(
      fc.property(text(), (s) => {
        assert.equal(percentEncode(s), rfc3986(s));
      }),
      { numRuns: 500 },
    );
  });
});

describe('signature v1 (HMAC-SHA1)', () => {
  test('reproduces the documented string to sign and signature', () => {
    const sts = v1StringToSign('GET', DOCS_PARAMS);
    assert.equal(sts, DOCS_STRING_TO_SIGN);
    assert.equal(signV1(sts, 'testsecret'), DOCS_SIGNATURE);
  });

  test('ignores the Signature param and the input order; upper-cases the method', () => {
    const shuffled = [...DOCS_PARAMS].reverse();
    shuffled.splice(3, 0, ['Signature', 'whatever']);
    assert.equal(v1StringToSign('get', shuffled), DOCS_STRING_TO_SIGN);
  });

  test('signs empty values (they are part of the canonical string)', () => {
    const withEmpty: [string, string][] = [...DOCS_PARAMS, ['RegionId', '']];
    const sts = v1StringToSign('GET', withEmpty);
    assert.match(sts, /%26RegionId%3D%26/);
    assert.notEqual(signV1(sts, 'testsecret'), DOCS_SIGNATURE);
  });

  test('the key is secret + "&"', () => {
    const sts = v1StringToSign('POST', DOCS_PARAMS);
    assert.equal(signV1(sts, 'testsecret'), v1SignRef(sts, 'testsecret'));
    assert.notEqual(signV1(sts, 'testsecret'), signV1(sts, 'testsecret&'));
  });

  test("special characters (!'()*~, space, non-ASCII) sign like the SDK's getRPCSignature", () => {
    const params: Record<string, string> = {
      ...Object.fromEntries(DOCS_PARAMS),
      Description: "it's (a) *test*! ~ok~ é 中文 😀 a+b=c&d/e",
      'Tag.1.Key': 'k(1)',
    };
    for (const method of ['GET', 'POST']) {
      const ours = signV1(v1StringToSign(method, Object.entries(params)), 'sk');
      assert.equal(ours, OpenApiUtil.getRPCSignature(params, method, 'sk'));
      assert.equal(ours, v1SignRef(v1StringToSignRef(method, params), 'sk'));
    }
  });

  test('agrees with the SDK signer on arbitrary keys and values', () => {
    fc.assert(
      fc.property(
        // `__proto__` cannot be a key of the SDK's plain-object params
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__'),
          text(),
          { maxKeys: 6 },
        ),
        fc.constantFrom('GET', 'POST'),
        (extra, method) => {
          const params = { ...Object.fromEntries(DOCS_PARAMS), ...extra };
          delete params.Signature;
          const ours = signV1(v1StringToSign(method, Object.entries(params)), 'sk');
          assert.equal(ours, OpenApiUtil.getRPCSignature({ ...params }, method, 'sk'));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('signature v3 (ACS3-HMAC-SHA256)', () => {
  const body = '';
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const headers: Record<string, string> = {
    host: '127.0.0.1:8080',
    'x-acs-action': 'DescribeRegions',
    'x-acs-version': '2014-05-26',
    'x-acs-date': '2025-01-02T03:04:05Z',
    'x-acs-signature-nonce': '0123456789abcdef0123456789abcdef',
    'x-acs-content-sha256': payloadHash,
    accept: 'application/json',
    'user-agent': 'test',
  };
  const query: Record<string, string> = {
    RegionId: 'cn-hangzhou',
    AcceptLanguage: 'en-US',
    Description: "it's (a) *test*! ~ok~ é 中文 😀 a+b=c&d/e",
    'Tag.1.Key': 'k',
  };

  /** The SDK's own signer: OpenApiUtil.getAuthorization. */
  function sdkAuthorization(q: Record<string, string>, h: Record<string, string>, secret: string) {
    const request = { method: 'POST', pathname: '/', query: q, headers: h };
    const auth = OpenApiUtil.getAuthorization(
      request as never,
      'ACS3-HMAC-SHA256',
      payloadHash,
      'AK',
      secret,
    );
    const m =
      /^ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(auth);
    assert.ok(m, auth);
    return { signedHeaders: m[1]!.split(';'), signature: m[2]! };
  }

  function ours(
    q: Record<string, string>,
    h: Record<string, string>,
    signed: string[],
    secret: string,
  ) {
    const canonical = v3CanonicalRequest({
      method: 'POST',
      path: '/',
      query: Object.entries(q),
      headers: h,
      signedHeaders: signed,
      payloadHash,
    });
    return { canonical, signature: signV3(v3StringToSign(canonical), secret) };
  }

  test('matches the SDK signer (getAuthorization) for the same request', () => {
    const sdk = sdkAuthorization(query, headers, 'secret');
    assert.deepEqual(sdk.signedHeaders, [
      'host',
      'x-acs-action',
      'x-acs-content-sha256',
      'x-acs-date',
      'x-acs-signature-nonce',
      'x-acs-version',
    ]);
    const mine = ours(query, headers, sdk.signedHeaders, 'secret');
    assert.equal(mine.signature, sdk.signature);
    // and the independent reference builds the same canonical request
    assert.equal(mine.canonical, v3CanonicalRef('POST', query, headers, payloadHash).canonical);
  });

  test('pinned vector (computed with the SDK signer)', () => {
    const mine = ours(
      query,
      headers,
      sdkAuthorization(query, headers, 'secret').signedHeaders,
      'secret',
    );
    assert.equal(
      mine.signature,
      '1de079933c672908a4c11ea042416d91b961e998084e5a78970543dbc3e40121',
    );
  });

  test('canonical request layout', () => {
    const { canonical } = ours({ B: '2', A: "x y!'()*~" }, headers, ['x-acs-date', 'host'], 's');
    assert.equal(
      canonical,
      [
        'POST',
        '/',
        'A=x%20y%21%27%28%29%2A~&B=2',
        'host:127.0.0.1:8080',
        'x-acs-date:2025-01-02T03:04:05Z',
        '',
        'host;x-acs-date',
        payloadHash,
      ].join('\n'),
    );
  });

  test('signed headers are sorted and trimmed whatever order the client lists them', () => {
    const spaced = { ...headers, 'x-acs-date': '  2025-01-02T03:04:05Z ' };
    const a = ours(query, spaced, ['x-acs-version', 'host', 'x-acs-date'], 's');
    const b = ours(query, headers, ['host', 'x-acs-date', 'x-acs-version'], 's');
    assert.equal(a.canonical, b.canonical);
  });

  test('the HMAC key is the raw secret (no "&"), output lower-case hex', () => {
    const sts = v3StringToSign('x');
    assert.match(signV3(sts, 'k'), /^[0-9a-f]{64}$/);
    assert.notEqual(signV3(sts, 'k'), signV3(sts, 'k&'));
    assert.equal(sts, `ACS3-HMAC-SHA256\n${createHash('sha256').update('x').digest('hex')}`);
  });

  test('agrees with the SDK signer on arbitrary query values and header values', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,10}$/), text(), { maxKeys: 5 }),
        fc.stringMatching(/^[ -~]{0,30}$/),
        (q, nonce) => {
          const h = { ...headers, 'x-acs-signature-nonce': nonce };
          const sdk = sdkAuthorization(q, h, 'sk');
          assert.equal(ours(q, h, sdk.signedHeaders, 'sk').signature, sdk.signature);
        },
      ),
      { numRuns: 300 },
    );
  });
});
