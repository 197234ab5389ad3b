/**
 * The PostgreSQL store against a real server. Needs TEST_DATABASE_URL (a role that may
 * CREATE DATABASE: every test works in a database of its own); the outage test also
 * needs TEST_PG_CLUSTER_DIR, the DIR given to `scripts/pg-cluster.sh start DIR`, which
 * it stops and starts again.
 *
 *   eval "$(scripts/pg-cluster.sh start /tmp/ecssg-pg | tail -n1 | sed 's/^/export TEST_/')"
 *   export TEST_PG_CLUSTER_DIR=/tmp/ecssg-pg
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { type Change, DuplicateRuleError, type NewRule } from '../../src/domain/store.js';
import type { Rule, SecurityGroup } from '../../src/domain/types.js';
import { isApiError } from '../../src/errors.js';
import { NONCE_WINDOW_MS, type NonceClaim, TIMESTAMP_SKEW_MS } from '../../src/nonces/window.js';
import { openStore } from '../../src/store/index.js';
import { MIGRATIONS, renderMigration } from '../../src/store/migrations.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres.js';

const DB_URL = process.env.TEST_DATABASE_URL;
const CLUSTER_DIR = process.env.TEST_PG_CLUSTER_DIR;
const SCRIPT = resolve(import.meta.dirname, '../../../scripts/pg-cluster.sh');
const run = promisify(execFile);

const created: string[] = [];
const open: PostgresStore[] = [];

/** A new empty database; its URL. */
async function freshDatabase(): Promise<string> {
  const name = `ecs_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: DB_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  created.push(name);
  const u = new URL(DB_URL!);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A claim of `nonce` by `key` at `nowMs` with a timestamp of `nowMs`. */
function claim(nonce: string, nowMs: number, key = 'ak'): NonceClaim {
  return { accessKeyId: key, nonce, expiresAtMs: nowMs + TIMESTAMP_SKEW_MS, nowMs };
}

async function openPg(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
  const s = await PostgresStore.open(url, opts);
  open.push(s);
  return s;
}

function group(id: string, ownerUid = 'u1'): SecurityGroup {
  return {
    id,
    ownerUid,
    regionId: 'cn-hangzhou',
    name: `name-${id}`,
    description: 'd',
    vpcId: null,
    type: 'normal',
    innerAccessPolicy: 'Accept',
    resourceGroupId: '',
    tags: [{ key: 'k', value: 'v' }],
    creationTime: '2024-01-01T00:00:00Z',
  };
}

function rule(id: string, groupId: string, port: number): NewRule {
  return {
    id,
    securityGroupId: groupId,
    direction: 'ingress',
    protocol: 'tcp',
    portRange: { from: port, to: port },
    sourcePortRange: null,
    nicType: 'intranet',
    policy: 'accept',
    priority: 1,
    peerCidr: '10.0.0.0/8',
    peerIpv6Cidr: null,
    peerGroup: null,
    localCidr: null,
    localIpv6Cidr: null,
    peerCidrText: '10.0.0.0/8',
    localCidrText: null,
    description: '',
    createTime: '2024-01-01T00:00:00Z',
  };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

const SKIP = 'TEST_DATABASE_URL is not set (scripts/pg-cluster.sh start DIR prints one to use)';

// Without a database, one skipped test says why (a skipped suite would count no test).
if (!DB_URL) test('PostgresStore', { skip: SKIP }, () => {});
else
  describe('PostgresStore', () => {
    after(async () => {
      for (const s of open) await s.close().catch(() => {});
      if (created.length === 0) return;
      const admin = new pg.Client({ connectionString: DB_URL });
      await admin.connect();
      for (const name of created) {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      }
      await admin.end();
    });

    test('openStore picks PostgreSQL for a postgres:// URL', async () => {
      const url = await freshDatabase();
      const s = await openStore({ url, dataDir: '/nonexistent' });
      try {
        assert.equal(s.kind, 'postgres');
        assert.ok(s.nonces);
      } finally {
        await s.close();
      }
    });

    test('committed writes survive close and reopen', async () => {
      const url = await freshDatabase();
      const a = await openPg(url);
      const inserted = await a.write(async (tx) => {
        await tx.insertGroup(group('sg-1'));
        const r1 = await tx.insertRule(rule('sgr-1', 'sg-1', 22), 'id-22');
        const r2 = await tx.insertRule(rule('sgr-2', 'sg-1', 80), 'id-80');
        return [r1, r2];
      });
      assert.ok(inserted[0]!.seq < inserted[1]!.seq);
      await a.close();

      const b = await openPg(url);
      const snap = await b.snapshot();
      assert.deepEqual(snap.groups, [group('sg-1')]);
      assert.deepEqual(snap.rules, inserted);
      const rules = await b.read((tx) => tx.listRules('sg-1'));
      assert.deepEqual(
        rules.map((r: Rule) => r.id),
        ['sgr-1', 'sgr-2'],
      );
      assert.equal(await b.read((tx) => tx.countRules('sg-1')), 2);
      assert.equal(await b.write((tx) => tx.lockGroupQuota('u1', 'cn-hangzhou')), 1);
    });

    test('migrations are applied and recorded once when 3 stores open together', async () => {
      const url = await freshDatabase();
      const stores = await Promise.all([openPg(url), openPg(url), openPg(url)]);
      assert.equal(stores.length, 3);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const { rows } = await c.query('SELECT version, name FROM schema_migrations ORDER BY 1');
        assert.deepEqual(
          rows.map((r) => Number(r.version)),
          MIGRATIONS.map((m) => m.version),
        );
      } finally {
        await c.end();
      }
      // A later start applies nothing.
      assert.deepEqual(await stores[0]!.migrate(), []);
    });

    test('a rule identity is unique per group: DuplicateRuleError, and the tx goes on', async () => {
      const url = await freshDatabase();
      const s = await openPg(url);
      await s.write(async (tx) => {
        await tx.insertGroup(group('sg-1'));
        await tx.insertRule(rule('sgr-1', 'sg-1', 22), 'id-22');
        await tx.insertRule(rule('sgr-2', 'sg-1', 80), 'id-80');
      });
      await assert.rejects(
        s.write((tx) => tx.insertRule(rule('sgr-3', 'sg-1', 22), 'id-22')),
        DuplicateRuleError,
      );
      // Caught inside the transaction, a duplicate leaves the transaction usable.
      const outcome = await s.write(async (tx) => {
        const seen: string[] = [];
        try {
          await tx.insertRule(rule('sgr-4', 'sg-1', 22), 'id-22');
        } catch (e) {
          if (e instanceof DuplicateRuleError) seen.push('insert');
        }
        const r2 = (await tx.getRule('sgr-2'))!;
        try {
          await tx.updateRule({ ...r2, portRange: { from: 22, to: 22 } }, 'id-22');
        } catch (e) {
          if (e instanceof DuplicateRuleError) seen.push('update');
        }
        await tx.insertRule(rule('sgr-5', 'sg-1', 443), 'id-443');
        return seen;
      });
      assert.deepEqual(outcome, ['insert', 'update']);
      const rules = await s.read((tx) => tx.listRules('sg-1'));
      assert.deepEqual(
        rules.map((r) => [r.id, r.portRange.from]),
        [
          ['sgr-1', 22],
          ['sgr-2', 80],
          ['sgr-5', 443],
        ],
      );
      // The same identity in another group is fine.
      await s.write(async (tx) => {
        await tx.insertGroup(group('sg-2'));
        await tx.insertRule(rule('sgr-6', 'sg-2', 22), 'id-22');
      });
    });

    test('the domain locks serialise concurrent writers (quota and rule limit)', async () => {
      const url = await freshDatabase();
      const a = await openPg(url);
      const b = await openPg(url);
      // Ten creators race for a quota of five groups.
      const created = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).write(async (tx) => {
            const n = await tx.lockGroupQuota('u1', 'cn-hangzhou');
            if (n >= 5) return false;
            await tx.insertGroup(group(`sg-${i}`));
            return true;
          }),
        ),
      );
      assert.equal(created.filter(Boolean).length, 5);
      assert.equal((await a.read((tx) => tx.listGroups('u1', 'cn-hangzhou'))).length, 5);
      // Ten authorisers race for a limit of five rules in one group.
      const gid = (await a.read((tx) => tx.listGroups('u1', 'cn-hangzhou')))[0]!.id;
      const added = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).write(async (tx) => {
            assert.ok(await tx.lockGroup(gid));
            if ((await tx.countRules(gid)) >= 5) return false;
            await tx.insertRule(rule(`sgr-${i}`, gid, 100 + i), `id-${i}`);
            return true;
          }),
        ),
      );
      assert.equal(added.filter(Boolean).length, 5);
      assert.equal(await b.read((tx) => tx.countRules(gid)), 5);
    });

    test('a failed write rolls back entirely and publishes nothing', async () => {
      const url = await freshDatabase();
      const s = await openPg(url);
      const seen: Change[] = [];
      s.subscribe((c) => seen.push(...c));
      await assert.rejects(
        s.write(async (tx) => {
          await tx.insertGroup(group('sg-1'));
          await tx.insertRule(rule('sgr-1', 'sg-1', 22), 'id-22');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await s.read((tx) => tx.getGroup('sg-1')), undefined);
      assert.equal(await s.read((tx) => tx.getRule('sgr-1')), undefined);
      assert.deepEqual(seen, []);
      // The connection went back to the pool in a usable state.
      await s.write((tx) => tx.insertGroup(group('sg-1')));
      assert.equal(seen.length, 1);
    });

    test('a nonce is claimed exactly once across stores, and again once expired', async () => {
      const url = await freshDatabase();
      const a = await openPg(url);
      const b = await openPg(url);
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).nonces.claim(claim('nonce-1', now))),
      );
      assert.equal(results.filter((r) => r === 'fresh').length, 1);
      assert.equal(results.filter((r) => r === 'used').length, 19);
      assert.equal(await a.nonces.claim(claim('nonce-2', now)), 'fresh');
      // Expired (past its timestamp plus the skew): fresh again, exactly once.
      const later = now + TIMESTAMP_SKEW_MS + 1;
      const again = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).nonces.claim(claim('nonce-1', later))),
      );
      assert.equal(again.filter((r) => r === 'fresh').length, 1);
    });

    test("a node's nonce ceilings: per key and overall; expired rows are purged", async () => {
      const url = await freshDatabase();
      const a = await openPg(url, { nonceLimits: { maxPerKey: 2, maxTotal: 3 }, noncePurgeMs: 0 });
      const b = await openPg(url, { nonceLimits: { maxPerKey: 2, maxTotal: 3 } });
      const now = Date.now();
      assert.equal(await a.nonces.claim(claim('1', now, 'k1')), 'fresh');
      assert.equal(await a.nonces.claim(claim('2', now, 'k1')), 'fresh');
      assert.equal(await a.nonces.claim(claim('3', now, 'k1')), 'key-limit');
      assert.equal(await a.nonces.claim(claim('1', now, 'k2')), 'fresh');
      assert.equal(await a.nonces.claim(claim('2', now, 'k2')), 'limit');
      // the other node has its own count, and the shared table still sees replays
      assert.equal(await b.nonces.claim(claim('1', now, 'k1')), 'used');
      assert.equal(await b.nonces.claim(claim('3', now, 'k1')), 'fresh');
      assert.deepEqual(a.nonces.stats().count, 3);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        assert.equal(
          Number((await c.query('SELECT count(*) AS n FROM nonce_hashes')).rows[0].n),
          4,
        );
        // past the expiry, the next claim frees the ceilings and purges the expired rows
        const later = now + TIMESTAMP_SKEW_MS + 2 * 60_000;
        assert.equal(await a.nonces.claim(claim('3', later, 'k1')), 'fresh');
        let left = -1;
        for (let i = 0; i < 50 && left !== 1; i++) {
          await new Promise((r) => setTimeout(r, 100));
          left = Number((await c.query('SELECT count(*) AS n FROM nonce_hashes')).rows[0].n);
        }
        assert.equal(left, 1, 'the 4 expired rows are purged, the new one stays');
      } finally {
        await c.end();
      }
    });

    test('migration 4 turns the whole-key nonces of an earlier version into fingerprints', async () => {
      const url = await freshDatabase();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        // a database as version 3 left it, with one nonce in use
        await c.query(
          'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
        );
        for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
          for (const st of m.statements) {
            const sql = renderMigration(st, 'postgres');
            if (sql !== null) await c.query(sql);
          }
          await c.query('INSERT INTO schema_migrations VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            '',
          ]);
        }
        const now = Date.now();
        await c.query('INSERT INTO nonces VALUES ($1, $2)', [
          'test\nold-nonce',
          now + NONCE_WINDOW_MS,
        ]);
      } finally {
        await c.end();
      }
      const s = await openPg(url);
      assert.equal(await s.nonces.claim(claim('old-nonce', Date.now(), 'test')), 'used');
      assert.equal(await s.nonces.claim(claim('new-nonce', Date.now(), 'test')), 'fresh');
    });

    test("changes made through store A reach store B's subscriber within 1 s", async () => {
      const url = await freshDatabase();
      const a = await openPg(url);
      const b = await openPg(url);
      const atA: Change[] = [];
      const atB: Change[] = [];
      a.subscribe((c) => atA.push(...c));
      b.subscribe((c) => atB.push(...c));
      let reloads = 0;
      b.onReload(() => reloads++);

      const started = Date.now();
      await a.write(async (tx) => {
        await tx.insertGroup(group('sg-1'));
        await tx.insertRule(rule('sgr-1', 'sg-1', 22), 'id-22');
      });
      // Local subscribers hear of a commit before write() resolves.
      assert.deepEqual(
        atA.map((c) => [c.kind, c.id]),
        [
          ['group', 'sg-1'],
          ['rule', 'sgr-1'],
        ],
      );
      assert.ok(await waitFor(() => atB.length === 2, 1000), 'B did not hear of the change');
      assert.ok(Date.now() - started < 1000);
      assert.deepEqual(atB, atA);
      const r = atB[1] as Extract<Change, { kind: 'rule' }>;
      assert.equal(r.rule?.portRange.from, 22);

      // A change set too large for one notification makes B reload instead.
      await a.write(async (tx) => {
        for (let i = 0; i < 60; i++) {
          await tx.insertRule(rule(`sgr-big-${i}`, 'sg-1', 1000 + i), `id-big-${i}`);
        }
      });
      assert.ok(await waitFor(() => reloads === 1, 1000), 'B was not told to reload');
      assert.equal(atB.length, 2);

      // A's own notifications are not delivered to A a second time.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(atA.length, 2 + 60);
    });

    test('while PostgreSQL is down writes fail fast with ServiceUnavailable; then they recover', {
      skip: CLUSTER_DIR
        ? false
        : 'TEST_PG_CLUSTER_DIR is not set (the DIR given to scripts/pg-cluster.sh start)',
      timeout: 120_000,
    }, async () => {
      const url = await freshDatabase();
      const s = await openPg(url);
      let reloads = 0;
      s.onReload(() => reloads++);
      await s.write((tx) => tx.insertGroup(group('sg-1')));

      await run(SCRIPT, ['stop', CLUSTER_DIR!]);
      try {
        for (let i = 0; i < 3; i++) {
          const t0 = Date.now();
          await assert.rejects(
            s.write((tx) => tx.insertGroup(group(`sg-down-${i}`))),
            (e) => isApiError(e) && e.code === 'ServiceUnavailable' && e.status === 503,
          );
          assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
        }
        await assert.rejects(
          s.read((tx) => tx.getGroup('sg-1')),
          isApiError,
        );
        await assert.rejects(Promise.resolve(s.nonces.claim(claim('n', Date.now()))), isApiError);
      } finally {
        await run(SCRIPT, ['start', CLUSTER_DIR!]);
      }

      // The same store instance works again.
      let ok = false;
      const deadline = Date.now() + 10_000;
      while (!ok && Date.now() < deadline) {
        try {
          await s.write((tx) => tx.insertGroup(group('sg-2')));
          ok = true;
        } catch (e) {
          if (!isApiError(e)) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      assert.ok(ok, 'writes did not recover');
      const ids = (await s.snapshot()).groups.map((g) => g.id);
      assert.deepEqual(ids, ['sg-1', 'sg-2']);
      // The change feed came back too, and told subscribers to rebuild.
      assert.ok(await waitFor(() => reloads >= 1, 10_000), 'no reload after the outage');
      const b = await openPg(url);
      const atS: Change[] = [];
      s.subscribe((c) => atS.push(...c));
      await b.write((tx) => tx.insertGroup(group('sg-3')));
      assert.ok(await waitFor(() => atS.length === 1, 1000), 'feed did not resume');
    });
  });
