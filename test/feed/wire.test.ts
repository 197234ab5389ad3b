/**
 * The change feed's answer on the wire: `Settling` survives encoding and decoding, an answer
 * without it (a service before it) is not settling, and one that is not a boolean is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FeedPage } from '../../src/domain/feed.js';
import { decodePage, encodePage, MalformedPageError } from '../../src/feed/wire.js';

const page = (extra: Partial<FeedPage> = {}): FeedPage => ({
  cursor: { epoch: 'ab12', pos: 41, stamp: 1_700_000_000_000 },
  snapshot: 'NoCursor',
  groups: [],
  deletedGroupIds: [],
  rules: [],
  deletedRuleIds: [],
  interfaces: [],
  deletedInterfaceIds: [],
  peerGroups: [],
  ...extra,
});

/** What a client gets: the answer as JSON text, parsed. */
const overTheWire = (p: FeedPage) => JSON.parse(JSON.stringify(encodePage(p)));

describe('the change feed answer', () => {
  test('Settling: true when later commits are not readable yet, false otherwise', () => {
    assert.equal(overTheWire(page({ settling: true })).Settling, true);
    assert.equal(overTheWire(page()).Settling, false);
    assert.deepEqual(decodePage(overTheWire(page({ settling: true }))), page({ settling: true }));
    assert.deepEqual(decodePage(overTheWire(page())), page());
  });

  test('an answer without Settling is not settling; one that is not a boolean is refused', () => {
    const body = overTheWire(page());
    delete body.Settling;
    assert.deepEqual(decodePage(body), page());
    assert.throws(
      () => decodePage({ ...body, Settling: 'true' }),
      (e) => e instanceof MalformedPageError && /Settling is not a boolean/.test(e.message),
    );
  });
});
