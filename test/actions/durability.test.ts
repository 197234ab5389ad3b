/**
 * Durability of the SQLite store: what was acknowledged survives a graceful restart and a
 * SIGKILL in the middle of a stream of concurrent writes; what was rejected never appears;
 * a call whose outcome the client could not learn is all-or-nothing; the database opens
 * cleanly afterwards.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { type RawResponse, signedV1 } from '../helpers/clients.js';
import { PG_MODE } from '../helpers/pg.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  assertErrorEnvelope,
  createGroupV1,
  createVpcV1,
  ecsV1,
  okV1,
  permissionsV1,
  REGION,
} from './support.js';

/** Everything DescribeSecurityGroupAttribute says about a group, minus the RequestId. */
async function snapshot(srv: TestServer, groupId: string) {
  const body = await okV1(srv, 'DescribeSecurityGroupAttribute', { SecurityGroupId: groupId });
  delete body.RequestId;
  return body;
}

/** SQLite's own check of the file (on PostgreSQL the server's recovery is the check). */
function integrityCheck(dataDir: string): void {
  if (PG_MODE) return;
  const db = new Database(join(dataDir, 'ecs-secgroup.db'), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
}

describe('graceful restart (SIGTERM, same data dir)', () => {
  test('groups, rules, attributes and ClientToken answers are there after the restart', async () => {
    const srv = await startServer();
    const vpcId = await createVpcV1(srv);
    const vpcGroup = await createGroupV1(srv, {
      VpcId: vpcId,
      SecurityGroupName: 'durable-vpc',
      Description: 'survives restarts 中文',
      'Tag.1.Key': 'env',
      'Tag.1.Value': 'prod',
    });
    const peer = await createGroupV1(srv, { VpcId: vpcId, SecurityGroupName: 'durable-peer' });
    const classic = await createGroupV1(srv, { SecurityGroupName: 'durable-classic' });

    await okV1(srv, 'AuthorizeSecurityGroup', {
      SecurityGroupId: vpcGroup,
      'Permissions.1.IpProtocol': 'tcp',
      'Permissions.1.PortRange': '22/22',
      'Permissions.1.SourceCidrIp': '10.1.2.3/8',
      'Permissions.1.Description': 'ssh 😀',
      'Permissions.2.IpProtocol': 'udp',
      'Permissions.2.PortRange': '53/53',
      'Permissions.2.Ipv6SourceCidrIp': '2001:DB8:0:0::1/64',
      'Permissions.2.Policy': 'drop',
      'Permissions.2.Priority': '5',
      'Permissions.3.IpProtocol': 'all',
      'Permissions.3.PortRange': '-1/-1',
      'Permissions.3.SourceGroupId': peer,
    });
    await okV1(srv, 'AuthorizeSecurityGroupEgress', {
      SecurityGroupId: vpcGroup,
      IpProtocol: 'icmp',
      PortRange: '-1/-1',
      DestCidrIp: '192.168.1.1',
    });
    await okV1(srv, 'AuthorizeSecurityGroup', {
      SecurityGroupId: classic,
      IpProtocol: 'tcp',
      PortRange: '80/80',
      SourceCidrIp: '0.0.0.0/0',
    });
    await okV1(srv, 'ModifySecurityGroupPolicy', {
      SecurityGroupId: peer,
      InnerAccessPolicy: 'Drop',
    });
    const token = 'durable-token-1';
    const first = await okV1(srv, 'AuthorizeSecurityGroup', {
      SecurityGroupId: classic,
      IpProtocol: 'tcp',
      PortRange: '443/443',
      SourceCidrIp: '0.0.0.0/0',
      ClientToken: token,
    });
    // Removed before the restart: must stay removed.
    await okV1(srv, 'RevokeSecurityGroup', {
      SecurityGroupId: classic,
      IpProtocol: 'tcp',
      PortRange: '80/80',
      SourceCidrIp: '0.0.0.0/0',
    });

    const groups = [vpcGroup, peer, classic];
    const before = await Promise.all(groups.map((g) => snapshot(srv, g)));
    const listBefore = await okV1(srv, 'DescribeSecurityGroups', { PageSize: '50' });
    delete listBefore.RequestId;
    assert.equal(before[0].Permissions.Permission.length, 4);
    // Spot-check the spelling that must survive: as written (host bits kept), IPv6 in RFC 5952.
    const cidrs = before[0].Permissions.Permission.map(
      (p: Record<string, string>) => p.SourceCidrIp || p.Ipv6SourceCidrIp,
    );
    assert.ok(cidrs.includes('10.1.2.3/8'), cidrs.join());
    assert.ok(cidrs.includes('2001:db8::1/64'), cidrs.join());

    assert.equal(await srv.stop('SIGTERM'), 0, `clean exit; stderr: ${srv.stderr()}`);
    integrityCheck(srv.dataDir);

    const again = await startServer({ dataDir: srv.dataDir });
    try {
      const after = await Promise.all(groups.map((g) => snapshot(again, g)));
      assert.deepEqual(after, before);
      const listAfter = await okV1(again, 'DescribeSecurityGroups', { PageSize: '50' });
      delete listAfter.RequestId;
      assert.deepEqual(listAfter, listBefore);
      // The ClientToken answer survives too: same RequestId, nothing added.
      const repeat = await okV1(again, 'AuthorizeSecurityGroup', {
        SecurityGroupId: classic,
        IpProtocol: 'tcp',
        PortRange: '443/443',
        SourceCidrIp: '0.0.0.0/0',
        ClientToken: token,
      });
      assert.equal(repeat.RequestId, first.RequestId);
      assert.equal((await permissionsV1(again, classic)).length, 1);
      // And the data is writable.
      await okV1(again, 'AuthorizeSecurityGroup', {
        SecurityGroupId: classic,
        IpProtocol: 'tcp',
        PortRange: '8080/8080',
        SourceCidrIp: '0.0.0.0/0',
      });
      assert.equal((await permissionsV1(again, classic)).length, 2);
    } finally {
      await again.stop();
    }
    integrityCheck(srv.dataDir);
  });

  test('SIGTERM during a stream of writes: every acknowledged write is kept', async (t) => {
    const srv = await startServer();
    const group = await createGroupV1(srv);
    const acked: number[] = [];
    const rejected: number[] = [];
    let stop: Promise<number | null> | undefined;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let port = w + 1; port <= 90; port += 8) {
          try {
            const r = await ecsV1(srv, 'AuthorizeSecurityGroup', {
              SecurityGroupId: group,
              IpProtocol: 'tcp',
              PortRange: `${port}/${port}`,
              SourceCidrIp: '10.0.0.0/8',
            });
            if (r.status === 200) acked.push(port);
            else rejected.push(port);
          } catch {
            return; // connection refused or reset: the server is going away
          }
          if (acked.length >= 20) stop ??= srv.stop('SIGTERM');
        }
      }),
    );
    t.diagnostic(`acked ${acked.length}, rejected ${rejected.length}`);
    assert.ok(stop, 'SIGTERM came during the stream');
    assert.equal(await stop, 0);
    const again = await startServer({ dataDir: srv.dataDir });
    try {
      const ports = new Set(
        (await permissionsV1(again, group)).map((p) => Number(p.PortRange.split('/')[0])),
      );
      for (const p of acked) assert.ok(ports.has(p), `acknowledged port ${p} kept`);
      for (const p of rejected) assert.ok(!ports.has(p), `rejected port ${p} absent`);
    } finally {
      await again.stop();
    }
  });
});

/** One planned AuthorizeSecurityGroup call of the crash stream and the rule keys it adds. */
interface Planned {
  i: number;
  group: string;
  params: Record<string, string>;
  /** `proto:port` of each rule the call adds when it succeeds (none for a bad call). */
  keys: string[];
  /** Designed to be rejected. */
  bad: boolean;
}

type Outcome = 'acked' | 'rejected' | 'refused' | 'unknown';

function plan(i: number, groups: string[]): Planned {
  const group = groups[i % groups.length]!;
  const port = i + 1;
  const cidr = '10.0.0.0/8';
  switch (i % 10) {
    case 3:
      // A good permission and a bad one: rejected as a whole, the good one must not appear.
      return {
        i,
        group,
        bad: true,
        keys: [`tcp:${port}`],
        params: {
          SecurityGroupId: group,
          'Permissions.1.IpProtocol': 'tcp',
          'Permissions.1.PortRange': `${port}/${port}`,
          'Permissions.1.SourceCidrIp': cidr,
          'Permissions.2.IpProtocol': 'tcp',
          'Permissions.2.PortRange': `${port}/70000`,
          'Permissions.2.SourceCidrIp': cidr,
        },
      };
    case 7:
      return {
        i,
        group,
        bad: true,
        keys: [`udp:${port}`],
        params: {
          SecurityGroupId: group,
          IpProtocol: 'udp',
          PortRange: `${port}/${port}`,
          SourceCidrIp: '10.0.0.0/33',
        },
      };
    case 5:
      // Two rules in one call: all or nothing.
      return {
        i,
        group,
        bad: false,
        keys: [`tcp:${port}`, `udp:${port}`],
        params: {
          SecurityGroupId: group,
          'Permissions.1.IpProtocol': 'tcp',
          'Permissions.1.PortRange': `${port}/${port}`,
          'Permissions.1.SourceCidrIp': cidr,
          'Permissions.2.IpProtocol': 'udp',
          'Permissions.2.PortRange': `${port}/${port}`,
          'Permissions.2.SourceCidrIp': cidr,
        },
      };
    default:
      return {
        i,
        group,
        bad: false,
        keys: [`tcp:${port}`],
        params: {
          SecurityGroupId: group,
          IpProtocol: 'tcp',
          PortRange: `${port}/${port}`,
          SourceCidrIp: cidr,
          Description: `call ${i}`,
        },
      };
  }
}

describe('crash (SIGKILL) in the middle of concurrent writes', () => {
  test('acknowledged rules exist, rejected ones do not, unknown ones are all-or-nothing', async (t) => {
    const srv = await startServer({ args: ['--max-rules-per-group', '2000'] });
    const groups: string[] = [];
    for (let g = 0; g < 4; g++)
      groups.push(await createGroupV1(srv, { SecurityGroupName: `crash-${g}` }));

    const TOTAL = 3000;
    const WORKERS = 16;
    const KILL_AFTER = 200;
    const calls = Array.from({ length: TOTAL }, (_, i) => plan(i, groups));
    const outcome = new Map<number, Outcome>();
    let next = 0;
    let ackedCount = 0;
    let killing: Promise<void> | undefined;

    const worker = async () => {
      while (next < TOTAL) {
        const c = calls[next++]!;
        let r: RawResponse;
        try {
          r = await signedV1(srv, {
            Action: 'AuthorizeSecurityGroup',
            Version: '2014-05-26',
            RegionId: REGION,
            ...c.params,
          });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // Refused: the connection never opened, so the server never saw the call.
          outcome.set(c.i, code === 'ECONNREFUSED' ? 'refused' : 'unknown');
          if (killing) return;
          continue;
        }
        if (r.status === 200) {
          outcome.set(c.i, 'acked');
          assert.equal(c.bad, false, `call ${c.i} was designed to fail: ${r.text}`);
          if (++ackedCount >= KILL_AFTER) killing ??= srv.kill9();
        } else {
          assertErrorEnvelope(r);
          assert.ok(r.status >= 400 && r.status < 500, r.text);
          outcome.set(c.i, 'rejected');
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    assert.ok(killing, `the server was killed (acked ${ackedCount})`);
    await killing;
    assert.equal(srv.proc.signalCode, 'SIGKILL');

    const count = (o: Outcome) => [...outcome.values()].filter((x) => x === o).length;
    const summary = `acked ${count('acked')}, rejected ${count('rejected')}, refused ${count('refused')}, unknown ${count('unknown')}, unsent ${TOTAL - outcome.size}`;
    t.diagnostic(summary);
    assert.ok(count('acked') >= KILL_AFTER, summary);
    assert.ok(count('rejected') > 0, summary);
    assert.ok(outcome.size < TOTAL, `the kill came before the stream ended: ${summary}`);

    const again = await startServer({
      dataDir: srv.dataDir,
      args: ['--max-rules-per-group', '2000'],
    });
    try {
      const list = await okV1(again, 'DescribeSecurityGroups', { PageSize: '50' });
      assert.deepEqual(
        list.SecurityGroups.SecurityGroup.map(
          (g: { SecurityGroupId: string }) => g.SecurityGroupId,
        ).sort(),
        [...groups].sort(),
      );
      const present = new Map<string, Set<string>>();
      let total = 0;
      for (const g of groups) {
        const perms = await permissionsV1(again, g);
        total += perms.length;
        const keys = new Set(
          perms.map((p) => `${p.IpProtocol.toLowerCase()}:${p.PortRange.split('/')[0]}`),
        );
        assert.equal(keys.size, perms.length, 'no rule twice');
        present.set(g, keys);
      }
      let expected = 0;
      const seen = new Set<string>();
      for (const c of calls) {
        const o = outcome.get(c.i);
        const here = c.keys.map((k) => present.get(c.group)!.has(k));
        for (const k of c.keys) seen.add(`${c.group}|${k}`);
        const what = `call ${c.i} (${o ?? 'unsent'}) ${JSON.stringify(c.params)}: present ${here}`;
        if (o === 'acked') {
          assert.ok(here.every(Boolean), `acknowledged: ${what}`);
          expected += c.keys.length;
        } else if (o === 'unknown') {
          assert.ok(here.every(Boolean) || !here.some(Boolean), `all or nothing: ${what}`);
          if (here.every(Boolean)) expected += c.keys.length;
          assert.ok(!c.bad || !here.some(Boolean), `a bad call never writes: ${what}`);
        } else {
          assert.ok(!here.some(Boolean), `not written: ${what}`);
        }
      }
      // Nothing but the planned rules: the total is acked + the unknown ones that landed.
      for (const [g, keys] of present) {
        for (const k of keys) assert.ok(seen.has(`${g}|${k}`), `unplanned rule ${k} in ${g}`);
      }
      assert.equal(total, expected, summary);
      const counts = await okV1(again, 'DescribeSecurityGroups', { PageSize: '50' });
      const ruleCount = counts.SecurityGroups.SecurityGroup.reduce(
        (n: number, g: { RuleCount: number }) => n + g.RuleCount,
        0,
      );
      assert.equal(ruleCount, total, 'RuleCount agrees with the rules');
      // The store is writable after recovery.
      await okV1(again, 'AuthorizeSecurityGroup', {
        SecurityGroupId: groups[0]!,
        IpProtocol: 'tcp',
        PortRange: '65535/65535',
        SourceCidrIp: '10.0.0.0/8',
      });
    } finally {
      assert.equal(await again.stop(), 0);
    }
    integrityCheck(srv.dataDir);
  });
});
