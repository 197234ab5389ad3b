/**
 * DescribeSecurityGroupChanges through the real server (SQLite): snapshots, deltas as the
 * state at the new cursor, long polls woken by commits, what another account's changes show,
 * cursors that cannot resume, a restart in between, and every error of the action. The same
 * feed on PostgreSQL with two nodes: test/store/change-feed.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FeedPage, formatCursor } from '../../src/domain/feed.js';
import { FeedState } from '../../src/feed/state.js';
import { accountsFile, type TestAccount } from '../actions/support.js';
import { Rng } from '../engine/gen.js';
import { expectApiError } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { Api, type Eni } from './api.js';

const ME: TestAccount = {
  uid: '1000000000000101',
  name: 'me@example.com',
  accessKeyId: 'ak-me',
  secret: 'sk-me',
};
const OTHER: TestAccount = {
  uid: '1000000000000202',
  name: 'other@example.com',
  accessKeyId: 'ak-other',
  secret: 'sk-other',
};

let srv: TestServer;
let me: Api;
let other: Api;
let vpc = '';
let vsw = '';

before(async () => {
  srv = await startServer({ accounts: accountsFile(ME, OTHER) });
  me = new Api(srv, ME);
  other = new Api(srv, OTHER);
  vpc = await me.vpc();
  vsw = await me.vswitch(vpc, '10.0.1.0/24');
});
after(() => srv?.stop());

const ids = <T extends { id: string }>(xs: readonly T[]) => xs.map((x) => x.id).sort();

/** A snapshot of the caller's scope now. */
const snapshot = (api: Api) => api.changes();

function sameState(a: FeedState, b: FeedState, why: string): void {
  const norm = (s: FeedState) => ({
    groups: [...s.groups.values()].sort((x, y) => x.id.localeCompare(y.id)),
    rules: [...s.rules.values()].sort((x, y) => x.id.localeCompare(y.id)),
    interfaces: [...s.interfaces.values()].sort((x, y) => x.id.localeCompare(y.id)),
    peers: [...s.peers.values()].sort((x, y) => x.groupId.localeCompare(y.groupId)),
  });
  assert.deepEqual(norm(a), norm(b), why);
}

function stateOf(...pages: FeedPage[]): FeedState {
  const s = new FeedState();
  for (const p of pages) s.apply(p);
  return s;
}

describe('pages', () => {
  test('without a cursor: a snapshot of the caller’s groups, rules and interfaces in the region', async () => {
    const g = await me.group(vpc);
    const rule = await me.allow(g, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '22/22',
      peer: '10.0.0.0/8',
    });
    const e = await me.eni(vsw, [g], { secondaries: 1 });
    const og = await other.group(null); // another account's: never shown
    const p = await snapshot(me);
    assert.equal(p.snapshot, 'NoCursor');
    assert.ok(
      p.groups.some((x) => x.id === g && x.vpcId === vpc && x.innerAccessPolicy === 'Accept'),
    );
    assert.ok(!p.groups.some((x) => x.id === og));
    const r = p.rules.find((x) => x.id === rule);
    assert.ok(r, 'the rule is in the snapshot');
    assert.deepEqual(
      [r.securityGroupId, r.direction, r.protocol, r.portRange, r.peerCidr, r.policy, r.priority],
      [g, 'ingress', 'tcp', { from: 22, to: 22 }, '10.0.0.0/8', 'accept', 1],
    );
    const eni = p.interfaces.find((x) => x.id === e.id);
    assert.deepEqual(eni?.securityGroupIds, [g]);
    assert.deepEqual(eni?.secondaryIpAddresses, e.secondary);
    assert.equal(eni?.primaryIpAddress, e.ip);
    // the other account sees its own group only
    const q = await snapshot(other);
    assert.deepEqual(ids(q.groups), [og]);
    assert.equal(q.rules.length + q.interfaces.length, 0);
  });

  test('with a cursor: what changed since, as it is at the new cursor; nothing more', async () => {
    const start = await snapshot(me);
    const g = await me.group(vpc);
    const r1 = await me.allow(g, {
      direction: 'egress',
      protocol: 'udp',
      ports: '53/53',
      peer: '10.0.0.0/8',
    });
    const r2 = await me.allow(g, { direction: 'ingress', protocol: 'icmp', peer: '0.0.0.0/0' });
    const e = await me.eni(vsw, [g]);
    await me.revoke(g, 'egress', r1);
    const d = await me.changes({ Cursor: formatCursorOf(start) });
    assert.equal(d.snapshot, null);
    assert.deepEqual(ids(d.groups), [g]);
    assert.deepEqual(ids(d.rules), [r2], 'a rule made and revoked since shows as deleted only');
    assert.deepEqual(d.deletedRuleIds, [r1]);
    assert.deepEqual(ids(d.interfaces), [e.id]);
    assert.ok(d.cursor.pos > start.cursor.pos);
    // applied to the start, the page gives what a snapshot at its cursor gives
    sameState(stateOf(start, d), stateOf(await snapshot(me)), 'snapshot + delta = snapshot');
    // nothing new: an empty page, the same cursor
    const again = await me.changes({ Cursor: formatCursorOf(d) });
    assert.deepEqual(again.cursor, d.cursor);
    assert.equal(again.rules.length + again.groups.length + again.interfaces.length, 0);
    // deletions
    await me.deleteEni(e.id);
    await me.call('DeleteSecurityGroup', { SecurityGroupId: g });
    const gone = await me.changes({ Cursor: formatCursorOf(d) });
    assert.deepEqual(gone.deletedInterfaceIds, [e.id]);
    assert.deepEqual(gone.deletedGroupIds, [g]);
    assert.deepEqual(gone.deletedRuleIds, [r2], 'deleting a group deletes its rules');
  });

  test('a long poll answers within a second of a commit in scope; another account’s commit does not end it', async () => {
    const start = await snapshot(me);
    const t0 = Date.now();
    const waiting = me.changes({ Cursor: formatCursorOf(start), WaitSeconds: '10' });
    await sleep(300);
    await other.group(null); // not in scope
    await sleep(300);
    const g = await me.group(vpc);
    const committed = Date.now();
    const p = await waiting;
    const answered = Date.now();
    assert.deepEqual(ids(p.groups), [g]);
    assert.ok(answered - committed < 1000, `answered ${answered - committed} ms after the commit`);
    assert.ok(answered - t0 >= 600, 'not answered before the change in scope');
  });

  test('a long poll with nothing in scope answers after WaitSeconds, the cursor moved past the rest', async () => {
    const start = await snapshot(me);
    await other.group(null);
    const t0 = Date.now();
    const p = await me.changes({ Cursor: formatCursorOf(start), WaitSeconds: '1' });
    const took = Date.now() - t0;
    assert.ok(took >= 950 && took < 3000, `answered after ${took} ms`);
    assert.equal(p.snapshot, null);
    assert.equal(p.groups.length + p.rules.length + p.interfaces.length, 0);
    assert.ok(p.cursor.pos > start.cursor.pos, 'the other account’s entry is behind the cursor');
  });

  test('XML answers carry the same page', async () => {
    const r = await me.raw('DescribeSecurityGroupChanges', { Format: 'XML' });
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /^<\?xml[^>]*><DescribeSecurityGroupChangesResponse><RequestId>/);
    assert.match(r.text, /<Snapshot>true<\/Snapshot><SnapshotReason>NoCursor<\/SnapshotReason>/);
  });
});

describe('another account', () => {
  test('of another account’s group that my rules name: its member addresses only; nothing else of that account', async () => {
    // Cross-account references exist between classic groups, which hold no interfaces: the
    // member list is empty, but the group is followed as soon as a rule names it.
    const og = await other.group(null);
    const ogRule = await other.allow(og, {
      direction: 'ingress',
      protocol: 'tcp',
      peer: '0.0.0.0/0',
    });
    const mine = await me.group(null);
    const start = await snapshot(me);
    await me.call('AuthorizeSecurityGroup', {
      SecurityGroupId: mine,
      IpProtocol: 'tcp',
      PortRange: '22/22',
      SourceGroupId: og,
      SourceGroupOwnerAccount: OTHER.name,
    });
    const d = await me.changes({ Cursor: formatCursorOf(start) });
    assert.deepEqual(
      d.peerGroups.map((p) => ({ ...p })),
      [{ groupId: og, ownerUid: OTHER.uid, addresses: [] }],
    );
    const s = await snapshot(me);
    assert.ok(s.peerGroups.some((p) => p.groupId === og));
    assert.ok(!s.groups.some((g) => g.id === og), 'the group itself is not shown');
    assert.ok(!s.rules.some((r) => r.id === ogRule), 'nor its rules');
    // the other account's later changes to that group stay invisible
    const before = await snapshot(me);
    await other.call('ModifySecurityGroupAttribute', {
      SecurityGroupId: og,
      SecurityGroupName: 'renamed-group',
    });
    const none = await me.changes({ Cursor: formatCursorOf(before) });
    assert.equal(none.groups.length + none.peerGroups.length, 0);
  });
});

describe('following the feed', () => {
  test('a follower applying every page through random changes of two accounts ends equal to a snapshot', async () => {
    const seed = Number(process.env.FEED_SEED ?? Date.now() % 2 ** 31);
    const rng = new Rng(seed);
    const follower = stateOf(await snapshot(me));
    const groups = [await me.group(vpc), await me.group(vpc)];
    const enis: Eni[] = [];
    const rules: { g: string; id: string; dir: 'ingress' | 'egress' }[] = [];
    const otherVpc = await other.vpc();
    const otherVsw = await other.vswitch(otherVpc, '10.0.2.0/24');
    const otherGroup = await other.group(otherVpc);
    for (let i = 0; i < 60; i++) {
      const k = rng.int(0, 9);
      if (k === 0) groups.push(await me.group(vpc, { inner: rng.bool() ? 'Accept' : 'Drop' }));
      else if (k <= 3) {
        const g = rng.pick(groups);
        const dir = rng.bool() ? 'ingress' : 'egress';
        const peer = rng.bool(0.3) ? rng.pick(groups) : `10.${rng.int(0, 255)}.0.0/16`;
        if (peer === g) continue;
        rules.push({
          g,
          dir,
          id: await me.allow(g, {
            direction: dir,
            protocol: 'tcp',
            ports: `${rng.int(1, 9)}/${rng.int(10, 99)}`,
            peer,
            priority: rng.int(1, 100),
          }),
        });
      } else if (k === 4 && rules.length > 0) {
        const r = rules.splice(rng.int(0, rules.length - 1), 1)[0]!;
        await me.revoke(r.g, r.dir, r.id);
      } else if (k === 5) enis.push(await me.eni(vsw, [rng.pick(groups)]));
      else if (k === 6 && enis.length > 0) {
        const e = rng.pick(enis);
        await me.setGroups(e.id, [...new Set([rng.pick(groups), rng.pick(groups)])]);
      } else if (k === 7 && enis.length > 0) {
        const e = rng.pick(enis);
        if (rng.bool()) e.secondary.push(...(await me.assign(e.id, 1)));
        else if (e.secondary.length > 0) await me.unassign(e.id, [e.secondary.pop()!]);
      } else if (k === 8 && enis.length > 0) {
        await me.deleteEni(enis.splice(rng.int(0, enis.length - 1), 1)[0]!.id);
      } else await other.eni(otherVsw, [otherGroup]);
      if (rng.bool(0.3)) follower.apply(await me.changes({ Cursor: formatCursorOf(follower) }));
    }
    follower.apply(await me.changes({ Cursor: formatCursorOf(follower) }));
    sameState(follower, stateOf(await snapshot(me)), `seed ${seed} (FEED_SEED to replay)`);
  });
});

describe('cursors that cannot resume', () => {
  test('older than the log keeps, of another database, or a position or stamp the log does not hold: a snapshot saying why', async () => {
    const small = await startServer({ args: ['--change-log-retention', '3'] });
    try {
      const api = new Api(small);
      const v = await api.vpc();
      const first = await api.changes();
      for (let i = 0; i < 8; i++) await api.group(v);
      const expired = await api.changes({ Cursor: formatCursorOf(first) });
      assert.equal(expired.snapshot, 'Expired');
      assert.equal(expired.groups.length, 8, 'a whole snapshot');
      const c = expired.cursor;
      const reset = (text: string) => api.changes({ Cursor: text });
      assert.equal(
        (await reset(`0123456789abcdef.${c.pos.toString(36)}.${c.stamp.toString(36)}`)).snapshot,
        'Reset',
      );
      assert.equal((await reset(`${c.epoch}.${(c.pos + 5).toString(36)}.1`)).snapshot, 'Reset');
      assert.equal(
        (await reset(`${c.epoch}.${c.pos.toString(36)}.${(c.stamp + 1).toString(36)}`)).snapshot,
        'Reset',
      );
      // the latest cursor resumes
      assert.equal((await api.changes({ Cursor: formatCursorOf(expired) })).snapshot, null);
    } finally {
      await small.stop();
    }
  });

  test('a restarted server resumes a cursor, and nothing committed meanwhile is missed', async () => {
    const one = await startServer();
    const api1 = new Api(one);
    const v = await api1.vpc();
    const g = await api1.group(v);
    const follower = stateOf(await api1.changes());
    const later = await api1.group(v);
    const rule = await api1.allow(g, {
      direction: 'ingress',
      protocol: 'udp',
      ports: '53/53',
      peer: '10.1.0.0/16',
    });
    await one.stop();
    const two = await startServer({ dataDir: one.dataDir });
    try {
      const api2 = new Api(two);
      const d = await api2.changes({ Cursor: formatCursorOf(follower) });
      assert.equal(d.snapshot, null, 'resumed, not a snapshot');
      assert.deepEqual(ids(d.groups), [later]);
      assert.deepEqual(ids(d.rules), [rule]);
      follower.apply(d);
      sameState(follower, stateOf(await api2.changes()), 'equal to a snapshot after the restart');
    } finally {
      await two.stop();
    }
  });
});

describe('errors', () => {
  test('every error of the action', async () => {
    await expectApiError(
      me.raw('DescribeSecurityGroupChanges', { Cursor: 'nope' }),
      'InvalidCursor.Malformed',
      400,
    );
    await expectApiError(
      me.raw('DescribeSecurityGroupChanges', { Cursor: 'abc.1' }),
      'InvalidCursor.Malformed',
      400,
    );
    await expectApiError(
      me.raw('DescribeSecurityGroupChanges', { WaitSeconds: '31' }),
      'InvalidParameter.Value',
      400,
    );
    await expectApiError(
      me.raw('DescribeSecurityGroupChanges', { WaitSeconds: '-1' }),
      'InvalidParameter.Value',
      400,
    );
    await expectApiError(
      me.raw('DescribeSecurityGroupChanges', { RegionId: 'xx-nowhere-1' }),
      'InvalidRegionId.NotFound',
      404,
    );
    await expectApiError(
      me.raw('DescribeSecurityGroupChanges', { RegionId: '' }),
      'MissingParameter',
      400,
    );
  });

  test('long polls beyond --max-feed-waiters are throttled; polls without WaitSeconds are not', async () => {
    const one = await startServer({ args: ['--max-feed-waiters', '1'] });
    try {
      const api = new Api(one);
      const start = await api.changes();
      const cursor = formatCursorOf(start);
      const waiting = api.changes({ Cursor: cursor, WaitSeconds: '2' });
      await sleep(200);
      await expectApiError(
        api.raw('DescribeSecurityGroupChanges', { Cursor: cursor, WaitSeconds: '2' }),
        'Throttling',
        400,
      );
      await api.changes({ Cursor: cursor });
      await waiting;
      // the place is free again
      await api.changes({ Cursor: cursor, WaitSeconds: '1' });
    } finally {
      await one.stop();
    }
  });

  test('a server that is closing answers waiting long polls at once', async () => {
    const one = await startServer();
    const api = new Api(one);
    const start = await api.changes();
    const t0 = Date.now();
    const waiting = api.changes({ Cursor: formatCursorOf(start), WaitSeconds: '20' });
    await sleep(200);
    await one.stop();
    const p = await waiting;
    assert.deepEqual(p.cursor, start.cursor);
    assert.ok(Date.now() - t0 < 5000, 'the close did not wait out the poll');
  });
});

function formatCursorOf(x: { cursor: FeedPage['cursor'] | null }): string {
  assert.ok(x.cursor, 'a cursor');
  return formatCursor(x.cursor);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
