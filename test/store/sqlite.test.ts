/** src/store/sqlite.ts directly: durability across reopen, migrations, batch isolation, pragmas. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Change } from '../../src/domain/store.js';
import type { SecurityGroup, Vpc } from '../../src/domain/types.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const dirs: string[] = [];
// A store call that never settles would otherwise empty the event loop and cancel the
// whole file without saying which test hung; keep the loop alive so the test times out.
const keepAlive = setInterval(() => {}, 1000);
after(() => {
  clearInterval(keepAlive);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Rejects if `p` has not settled within `ms`, naming `what`. */
function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ecs-sg-sqlite-'));
  dirs.push(d);
  return d;
}

/** The store's own connection (per-connection pragmas such as `synchronous` live there). */
const dbOf = (s: SqliteStore) => (s as unknown as { db: Database.Database }).db;

const vpc = (id: string): Vpc => ({
  id,
  ownerUid: '1000000000000001',
  regionId: 'cn-hangzhou',
  cidrBlock: '172.16.0.0/12',
  name: `name-${id}`,
  description: `it's "${id}" — 中文`,
  resourceGroupId: '',
  tags: [],
  creationTime: '2025-01-02T03:04:05Z',
});

const group = (id: string): SecurityGroup => ({
  id,
  ownerUid: '1000000000000001',
  regionId: 'cn-hangzhou',
  name: `sg ${id}`,
  description: '',
  vpcId: null,
  type: 'normal',
  innerAccessPolicy: 'Accept',
  resourceGroupId: '',
  tags: [{ key: 'k', value: 'v' }],
  creationTime: '2025-01-02T03:04:05Z',
});

class Boom extends Error {}

/** Per test: a hung store call fails that test alone. */
const T = { timeout: 8000 };

describe('SqliteStore', () => {
  // Regression: a job enqueued by the continuation of a job of the batch that just ended
  // (i.e. `await store.write(a); await store.write(b)`) must start a new batch.
  test(
    'a write issued right after another write resolved completes (no lost wake-up)',
    T,
    async () => {
      const s = SqliteStore.open(freshDir());
      try {
        // plain sequential awaits: the second call is made by the first one's continuation
        const sequence = (async () => {
          await s.write((tx) => tx.insertVpc(vpc('vpc-1')));
          await s.write((tx) => tx.insertVpc(vpc('vpc-2')));
          return s.read((tx) => tx.getVpc('vpc-2'));
        })();
        assert.deepEqual(await within(sequence, 'write; write; read in sequence'), vpc('vpc-2'));
        const reads = (async () => {
          await s.read((tx) => tx.getVpc('vpc-1'));
          return s.read((tx) => tx.getVpc('vpc-1'));
        })();
        assert.deepEqual(await within(reads, 'read; read in sequence'), vpc('vpc-1'));
      } finally {
        await s.close();
      }
    },
  );

  test('a committed write is there after close and reopen', T, async () => {
    const dir = freshDir();
    const s1 = SqliteStore.open(dir);
    await s1.write(async (tx) => {
      await tx.insertVpc(vpc('vpc-one'));
      await tx.insertGroup(group('sg-one'));
    });
    await s1.close();

    const s2 = SqliteStore.open(dir);
    try {
      assert.deepEqual(await s2.read((tx) => tx.getVpc('vpc-one')), vpc('vpc-one'));
      assert.deepEqual(await s2.read((tx) => tx.getGroup('sg-one')), group('sg-one'));
      const snap = await s2.snapshot();
      assert.deepEqual(
        snap.groups.map((g) => g.id),
        ['sg-one'],
      );
    } finally {
      await s2.close();
    }
  });

  test(
    'a write has committed when its promise resolves (another connection sees it)',
    T,
    async () => {
      const dir = freshDir();
      const s = SqliteStore.open(dir);
      const other = new Database(s.file, { readonly: true });
      try {
        await s.write((tx) => tx.insertVpc(vpc('vpc-seen')));
        const row = other.prepare('SELECT id FROM vpcs WHERE id = ?').get('vpc-seen');
        assert.deepEqual(row, { id: 'vpc-seen' });
      } finally {
        other.close();
        await s.close();
      }
    },
  );

  test(
    'migrations are recorded once in schema_migrations; reopening applies nothing',
    T,
    async () => {
      const dir = freshDir();
      const s1 = SqliteStore.open(dir);
      const rows1 = dbOf(s1)
        .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
        .all() as { version: number; name: string; applied_at: string }[];
      assert.deepEqual(
        rows1.map((r) => [r.version, r.name]),
        MIGRATIONS.map((m) => [m.version, m.name]),
      );
      assert.deepEqual(s1.migrate(), [], 'migrate() on an up-to-date db applies nothing');
      await s1.close();

      const s2 = SqliteStore.open(dir);
      try {
        assert.deepEqual(s2.migrate(), []);
        const rows2 = dbOf(s2)
          .prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')
          .all();
        assert.deepEqual(rows2, rows1, 'nothing re-applied, applied_at unchanged');
      } finally {
        await s2.close();
      }
    },
  );

  test(
    'a failing transaction leaves nothing and does not disturb the others of its batch',
    T,
    async () => {
      const dir = freshDir();
      const s = SqliteStore.open(dir);
      const seen: Change[][] = [];
      s.subscribe((c) => seen.push([...c]));
      try {
        // launched together, so they share one batch
        const results = await Promise.allSettled([
          s.write(async (tx) => {
            await tx.insertVpc(vpc('vpc-a'));
            await tx.insertGroup(group('sg-a'));
            return 'a';
          }),
          s.write(async (tx) => {
            await tx.insertVpc(vpc('vpc-b'));
            await tx.insertGroup(group('sg-b'));
            throw new Boom('no');
          }),
          s.write(async (tx) => {
            await tx.insertVpc(vpc('vpc-c'));
            return 'c';
          }),
          // a failure raised by SQLite itself: duplicate primary key inside the same batch
          s.write(async (tx) => {
            await tx.insertVpc(vpc('vpc-d'));
            await tx.insertVpc(vpc('vpc-a'));
          }),
          s.write(async (tx) => {
            await tx.insertGroup(group('sg-e'));
            return 'e';
          }),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
        );
        assert.equal((results[0] as PromiseFulfilledResult<string>).value, 'a');
        assert.ok((results[1] as PromiseRejectedResult).reason instanceof Boom);
        assert.equal((results[2] as PromiseFulfilledResult<string>).value, 'c');
        assert.equal((results[4] as PromiseFulfilledResult<string>).value, 'e');

        const ids = await s.read(async (tx) => ({
          vpcs: (await tx.listVpcs('1000000000000001', 'cn-hangzhou')).map((v) => v.id),
          groups: (await tx.listGroups('1000000000000001', 'cn-hangzhou')).map((g) => g.id),
        }));
        assert.deepEqual(ids, { vpcs: ['vpc-a', 'vpc-c'], groups: ['sg-a', 'sg-e'] });

        // subscribers hear only committed changes
        const published = seen.flat().map((c) => c.id);
        assert.deepEqual(published.sort(), ['sg-a', 'sg-e']);
      } finally {
        await s.close();
      }
      // and the same after reopening
      const again = SqliteStore.open(dir);
      try {
        const vpcs = await again.read((tx) => tx.listVpcs('1000000000000001', 'cn-hangzhou'));
        assert.deepEqual(
          vpcs.map((v) => v.id),
          ['vpc-a', 'vpc-c'],
        );
      } finally {
        await again.close();
      }
    },
  );

  test('many concurrent writes, every third failing: exactly the others persist', T, async () => {
    const dir = freshDir();
    const s = SqliteStore.open(dir);
    try {
      const n = 600; // more than one batch
      const results = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          s.write(async (tx) => {
            await tx.insertVpc(vpc(`vpc-${i}`));
            if (i % 3 === 0) throw new Boom(String(i));
            return i;
          }),
        ),
      );
      results.forEach((r, i) => {
        assert.equal(r.status, i % 3 === 0 ? 'rejected' : 'fulfilled', String(i));
      });
      const vpcs = await s.read((tx) => tx.listVpcs('1000000000000001', 'cn-hangzhou'));
      const want = Array.from({ length: n }, (_, i) => i)
        .filter((i) => i % 3 !== 0)
        .map((i) => `vpc-${i}`);
      assert.deepEqual(
        vpcs.map((v) => v.id),
        want,
      );
    } finally {
      await s.close();
    }
  });

  test('close() waits for queued writes; writes after close are refused', T, async () => {
    const dir = freshDir();
    const s = SqliteStore.open(dir);
    const pending = s.write((tx) => tx.insertVpc(vpc('vpc-late')));
    await s.close();
    await pending;
    await assert.rejects(
      s.write((tx) => tx.insertVpc(vpc('vpc-after'))),
      (e: { code?: string }) => e.code === 'ServiceUnavailable',
    );
    const again = SqliteStore.open(dir);
    try {
      assert.ok(await again.read((tx) => tx.getVpc('vpc-late')));
    } finally {
      await again.close();
    }
  });

  test('WAL journal mode and synchronous FULL', T, async () => {
    const s = SqliteStore.open(freshDir());
    try {
      const db = dbOf(s);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 2);
    } finally {
      await s.close();
    }
  });
});

test('the rule cache never shows what a rolled-back transaction wrote', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecs-sg-cache-'));
  const store = SqliteStore.open(dir);
  try {
    const group = {
      id: 'sg-cache',
      ownerUid: '1',
      regionId: 'cn-hangzhou',
      name: '',
      description: '',
      vpcId: null,
      type: 'normal' as const,
      innerAccessPolicy: 'Accept' as const,
      resourceGroupId: '',
      tags: [],
      creationTime: '2026-01-01T00:00:00Z',
    };
    const rule = (id: string) => ({
      id,
      securityGroupId: 'sg-cache',
      direction: 'ingress' as const,
      protocol: 'tcp' as const,
      portRange: { from: 22, to: 22 },
      sourcePortRange: null,
      nicType: 'internet' as const,
      policy: 'accept' as const,
      priority: 1,
      peerCidr: `10.0.0.${id.length}/32`,
      peerIpv6Cidr: null,
      peerGroup: null,
      localCidr: null,
      localIpv6Cidr: null,
      peerCidrText: null,
      localCidrText: null,
      description: '',
      createTime: '2026-01-01T00:00:00Z',
    });
    await store.write(async (tx) => {
      await tx.insertGroup(group);
      await tx.insertRule(rule('sgr-a'), 'a');
    });
    assert.equal((await store.read((tx) => tx.listRules('sg-cache'))).length, 1); // cached now
    await assert.rejects(
      store.write(async (tx) => {
        await tx.insertRule(rule('sgr-bb'), 'b');
        assert.equal((await tx.listRules('sg-cache')).length, 2); // re-cached inside the tx
        throw new Error('roll back');
      }),
      /roll back/,
    );
    const after = await store.read((tx) => tx.listRules('sg-cache'));
    assert.deepEqual(
      after.map((r) => r.id),
      ['sgr-a'],
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
