/**
 * The lab's life: `lab up` makes a namespace per interface (named after it, registered so
 * `ip netns` knows it) holding its addresses and a default route, returns once the rules are
 * in force, and leaves the agent running detached with its output in the lab's log;
 * `lab status` and `lab exec`; interfaces created, readdressed and deleted later follow
 * within a second; `lab down` leaves no namespace, link, table or process behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { alive } from '../../src/lab/lab.js';
import { GATEWAY, hostNetns } from '../../src/lab/names.js';
import { runCli, startServer, type TestServer } from '../helpers/server.js';
import { Api, type Eni } from './api.js';
import { noNamespaces, sleep } from './lab.js';

const skip = noNamespaces();
if (skip) console.log(`# lab tests skipped: ${skip}`);

const sh = (...argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
const namespaces = () =>
  sh('ip', 'netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
const inNs = (ns: string, ...argv: string[]) => sh('ip', 'netns', 'exec', ns, ...argv);

/** Waits until `cond` holds; resolves to how long it took. */
async function within(ms: number, what: string, cond: () => boolean): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    assert.ok(Date.now() - t0 < ms, `${what}: not within ${ms} ms`);
    await sleep(10);
  }
  return Date.now() - t0;
}

describe('the lab', { skip }, () => {
  let srv: TestServer;
  let api: Api;
  let vpc = '';
  after(async () => {
    if (vpc) await runCli(['lab', 'down', '--vpc', vpc]);
    await srv?.stop();
  });

  test('up, status, exec, following the VPC, down', async () => {
    srv = await startServer();
    api = new Api(srv);
    vpc = await api.vpc();
    const vsw = await api.vswitch(vpc, '10.0.1.0/24');
    const g = await api.group(vpc, { inner: 'Drop' });
    const open = await api.group(vpc, { inner: 'Drop' });
    await api.allow(open, { direction: 'ingress', protocol: 'icmp', peer: '10.0.1.0/24' });
    const a = await api.eni(vsw, [g], { secondaries: 2 });
    const b = await api.eni(vsw, [open]);
    const tablesBefore = sh('nft', 'list', 'tables');
    const linksBefore = sh('ip', '-o', 'link', 'show');

    const up = await runCli(['lab', 'up', '--vpc', vpc, '--endpoint', srv.url], {
      timeoutMs: 60_000,
    });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`lab ${vpc} is up: 2 interface`));
    assert.doesNotMatch(
      up.stdout + up.stderr,
      /agent:/,
      'the agent writes to its log, not to the caller',
    );
    // namespaces named after the interfaces, registered the usual way
    const ns = namespaces();
    for (const e of [a, b]) assert.ok(ns.includes(e.id), `${e.id} in ip netns list`);
    assert.ok(ns.includes(hostNetns(vpc)));
    const addrs = inNs(a.id, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0');
    for (const ip of [a.ip, ...a.secondary]) assert.match(addrs, new RegExp(`inet ${ip}/32`));
    assert.match(
      inNs(a.id, 'ip', 'route', 'show', 'default'),
      new RegExp(`default via ${GATEWAY} dev eth0 .*src ${a.ip}`),
    );
    // in force on return: b answers ping from a (the rule), a does not answer b (no rule)
    const ping = (from: Eni, to: string) =>
      runCli(['lab', 'exec', from.id, '--', 'ping', '-n', '-c', '1', '-W', '0.3', to]);
    assert.equal((await ping(a, b.ip)).code, 0, 'a pings b');
    assert.notEqual((await ping(b, a.ip)).code, 0, 'b cannot ping a');
    // exec passes the exit code through
    assert.equal((await runCli(['lab', 'exec', a.id, '--', 'sh', '-c', 'exit 7'])).code, 7);
    assert.notEqual((await runCli(['lab', 'exec', 'eni-notalab', '--', 'true'])).code, 0);
    // the agent runs on, detached, logging to the lab's file
    const dir = join('/run/ecs-secgroup/lab', vpc);
    const config = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8'));
    assert.ok(alive(config.agentPid), 'the agent runs after lab up returned');
    assert.match(readFileSync(join(dir, 'agent.log'), 'utf8'), /first sync complete/);
    // status: interfaces, applied cursor, last error
    const status = await runCli(['lab', 'status', '--vpc', vpc]);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /agent \d+ running/);
    assert.match(status.stdout, /applied cursor [0-9a-f]+\.[0-9a-z]+\.[0-9a-z]+/);
    assert.match(status.stdout, /last error: none/);
    for (const e of [a, b]) assert.match(status.stdout, new RegExp(`${e.id} .*enforcing`));
    const json = JSON.parse((await runCli(['lab', 'status', '--vpc', vpc, '--json'])).stdout);
    assert.equal(json[0].status.ports.length, 2);

    // later changes follow within a second: a new interface, a new address, one removed
    const c = await api.eni(vsw, [open]);
    const plugged = await within(1000, 'the new interface plugged', () =>
      namespaces().includes(c.id),
    );
    assert.equal((await ping(a, c.ip)).code, 0, 'the new interface answers as its rules say');
    const [added] = await api.assign(b.id, 1);
    const readdressed = await within(1000, 'the new address', () =>
      inNs(b.id, 'ip', '-4', '-o', 'addr').includes(`${added}/32`),
    );
    assert.equal((await ping(a, added!)).code, 0, 'the new address is reachable');
    await api.unassign(a.id, [a.secondary[0]!]);
    await within(
      1000,
      'the removed address',
      () => !inNs(a.id, 'ip', '-4', '-o', 'addr').includes(`${a.secondary[0]}/32`),
    );
    await api.deleteEni(c.id);
    const removed = await within(
      1000,
      'the deleted interface unplugged',
      () => !namespaces().includes(c.id),
    );
    console.log(
      `# followed: plugged ${plugged} ms, readdressed ${readdressed} ms, removed ${removed} ms`,
    );

    // down: nothing left
    const down = await runCli(['lab', 'down', '--vpc', vpc]);
    assert.equal(down.code, 0, down.stderr);
    const left = namespaces();
    for (const n of [a.id, b.id, c.id, hostNetns(vpc)])
      assert.ok(!left.includes(n), `${n} removed`);
    assert.ok(!alive(config.agentPid), 'the agent stopped');
    assert.ok(!existsSync(dir), 'the lab’s state removed');
    assert.equal(sh('nft', 'list', 'tables'), tablesBefore, 'no table here was made or changed');
    const links = sh('ip', '-o', 'link', 'show');
    assert.doesNotMatch(links, /esg[0-9a-f]{12}/, 'no lab link in this namespace');
    assert.equal(links.split('\n').length, linksBefore.split('\n').length);
    assert.match((await runCli(['lab', 'status', '--vpc', vpc])).stdout, /no lab/);
    vpc = '';
  });
});
