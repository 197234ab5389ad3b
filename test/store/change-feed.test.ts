/**
 * The change feed on PostgreSQL with two service nodes on one database: the cursor is the
 * commit order both nodes share, so a follower that takes each page from either node while
 * both take concurrent writes misses nothing, and a long poll on one node wakes on the other
 * node's commit. Needs TEST_DATABASE_URL (a role that may CREATE DATABASE).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { formatCursor, readFeed } from '../../src/domain/feed.js';
import type { SecurityGroup } from '../../src/domain/types.js';
import { FeedState } from '../../src/feed/state.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { Api } from '../enforce/api.js';
import { databaseFor, sqlOn } from '../helpers/pg.js';
import { startServer, type TestServer, tempDir } from '../helpers/server.js';

const DB_URL = process.env.TEST_DATABASE_URL;
const SKIP = 'TEST_DATABASE_URL is not set (scripts/pg-cluster.sh start DIR prints one to use)';
function group(id: string): SecurityGroup {
  return {
    id,
    ownerUid: 'u1',
    regionId: 'cn-hangzhou',
    name: id,
    description: '',
    vpcId: null,
    type: 'normal',
    innerAccessPolicy: 'Accept',
    resourceGroupId: '',
    tags: [],
    creationTime: '2026-01-01T00:00:00Z',
  };
}

const sorted = <T extends { id: string }>(m: Map<string, T>) =>
  [...m.values()].sort((a, b) => a.id.localeCompare(b.id));

if (!DB_URL) test('the change feed on two PostgreSQL nodes', { skip: SKIP }, () => {});
else
  describe('the change feed on two PostgreSQL nodes', () => {
    let one: TestServer;
    let two: TestServer;
    let a: Api;
    let b: Api;
    let vpc = '';
    let vsw = '';

    before(async () => {
      const url = await databaseFor(tempDir());
      [one, two] = await Promise.all([
        startServer({ args: ['--store', url] }),
        startServer({ args: ['--store', url] }),
      ]);
      a = new Api(one);
      b = new Api(two);
      vpc = await a.vpc();
      vsw = await a.vswitch(vpc, '10.0.1.0/24');
    });

    after(() => Promise.all([one?.stop(), two?.stop()]));

    test('a follower taking each page from either node while both take concurrent writes misses nothing', async () => {
      const follower = new FeedState();
      follower.apply(await a.changes());
      const groups = [await a.group(vpc), await b.group(vpc)];
      let writing = true;
      // four writers, two per node: groups, rules, interfaces, memberships
      const writer = async (api: Api, k: number) => {
        for (let i = 0; i < 20; i++) {
          const g = groups[(i + k) % groups.length]!;
          if (i % 5 === 0) groups.push(await api.group(vpc));
          else if (i % 5 === 1) await api.eni(vsw, [g]);
          else
            await api.allow(g, {
              direction: i % 2 ? 'ingress' : 'egress',
              protocol: 'tcp',
              ports: `${k * 100 + i}/${k * 100 + i}`,
              peer: `10.${k}.${i}.0/24`,
            });
        }
      };
      let pages = 0;
      let last = follower.cursor!.pos;
      const follow = (async () => {
        for (let n = 0; writing; n++) {
          const api = n % 2 === 0 ? a : b;
          const page = await api.changes({
            Cursor: formatCursor(follower.cursor!),
            WaitSeconds: '1',
          });
          assert.equal(page.snapshot, null, 'every page resumes');
          assert.ok(page.cursor.pos >= last, 'cursors only move forward');
          last = page.cursor.pos;
          follower.apply(page);
          pages++;
        }
      })();
      await Promise.all([writer(a, 1), writer(b, 2), writer(a, 3), writer(b, 4)]);
      writing = false;
      await follow;
      follower.apply(await b.changes({ Cursor: formatCursor(follower.cursor!) }));
      const snap = new FeedState();
      snap.apply(await a.changes());
      assert.ok(pages > 3, `the follower took ${pages} pages while the writers ran`);
      assert.deepEqual(sorted(follower.groups), sorted(snap.groups));
      assert.deepEqual(sorted(follower.rules), sorted(snap.rules));
      assert.deepEqual(sorted(follower.interfaces), sorted(snap.interfaces));
      assert.equal(snap.rules.size, 4 * 12);
    });

    test('a reader never passes an entry still to commit: entries of later transactions wait for it', async () => {
      const url = await databaseFor(tempDir());
      const [x, y] = [await PostgresStore.open(url), await PostgresStore.open(url)];
      try {
        // the transaction making sg-slow sleeps for a second right after its append
        await sqlOn(
          'CREATE FUNCTION slow_log() RETURNS trigger AS $$ BEGIN ' +
            "IF NEW.entries LIKE '%sg-slow%' THEN PERFORM pg_sleep(1); END IF; RETURN NEW; " +
            'END $$ LANGUAGE plpgsql',
          url,
        );
        await sqlOn(
          'CREATE TRIGGER slow_log AFTER INSERT ON change_log FOR EACH ROW EXECUTE FUNCTION slow_log()',
          url,
        );
        const scope = { ownerUid: 'u1', regionId: 'cn-hangzhou' };
        const start = await y.read((tx) => readFeed(tx, scope, undefined));
        const slow = x.write((tx) => tx.insertGroup(group('sg-slow')));
        await new Promise((r) => setTimeout(r, 300)); // sg-slow has appended, not committed
        await y.write((tx) => tx.insertGroup(group('sg-fast')));
        // whatever a reader sees now, reading on from its cursor later must bring both
        const seen = await y.read((tx) => readFeed(tx, scope, start.cursor));
        // and a snapshot's cursor is behind sg-fast, acknowledged already: it says so
        const snap = await y.read((tx) => readFeed(tx, scope, undefined));
        await slow;
        const rest = await y.read((tx) => readFeed(tx, scope, seen.cursor));
        const got = [...seen.groups, ...rest.groups].map((g) => g.id).sort();
        assert.deepEqual(got, ['sg-fast', 'sg-slow']);
        assert.deepEqual(
          seen.groups.map((g) => g.id),
          [],
          'sg-fast committed first, but sg-slow began writing before it: sg-fast waits for it',
        );
        assert.equal(seen.settling, true, 'the reader is told a commit is settling');
        assert.equal(snap.settling, true, 'so is the reader of a snapshot');
        assert.equal(snap.cursor.pos, start.cursor.pos, 'whose cursor is before both');
        assert.equal(rest.settling, undefined);
        const after = await y.read((tx) => readFeed(tx, scope, undefined));
        assert.equal(after.settling, undefined, 'once both have ended, a snapshot is whole');
        assert.ok(after.cursor.pos > start.cursor.pos);
      } finally {
        await Promise.all([x.close(), y.close()]);
      }
    });

    test('a long poll on one node answers within a second of a commit on the other', async () => {
      const start = await a.changes();
      const waiting = a.changes({ Cursor: formatCursor(start.cursor), WaitSeconds: '10' });
      await new Promise((r) => setTimeout(r, 300));
      const g = await b.group(vpc);
      const committed = Date.now();
      const page = await waiting;
      assert.ok(Date.now() - committed < 1000, `${Date.now() - committed} ms after the commit`);
      assert.deepEqual(
        page.groups.map((x) => x.id),
        [g],
      );
    });
  });
