/**
 * Scenarios of the rule analyzer, one finding type at a time, IPv6, inner access before the
 * rules, an interface whose groups shadow each other's rules, and proposed changes. Each
 * witness is checked against the reference evaluator at an interface in the group alone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NetworkInterface, Rule, SecurityGroup } from '../../src/domain/types.js';
import {
  type Analysis,
  type AnalysisInput,
  analyze,
  type Finding,
  groupSubject,
  interfaceSubject,
  isPublic,
  PUBLIC4,
  type Witness,
  witnessPacket,
} from '../../src/engine/analyze/index.js';
import { type Decision, Engine, formatAddr, parseAddress } from '../../src/engine/index.js';
import { eni, group as fixtureGroup, rule as fixtureRule } from './fixtures.js';
import { Reference } from './reference.js';

let n = 0;

/** A rule of sg-web (tcp 22 ingress accept from anywhere unless `over` says otherwise). */
const rule = (over: Partial<Rule> = {}): Rule =>
  fixtureRule(`sgr-${++n}`, { securityGroupId: 'sg-web', ...over });

/** A normal group with inner access Accept unless `over` says otherwise. */
const group = (id: string, over: Partial<SecurityGroup> = {}): SecurityGroup =>
  fixtureGroup(id, { innerAccessPolicy: 'Accept', ...over });

/** A little world: groups, interfaces, rules, in an engine and the reference. */
class Model {
  readonly engine = new Engine();
  readonly ref = new Reference();
  constructor(groups: SecurityGroup[], enis: NetworkInterface[], rules: Rule[]) {
    for (const t of [this.engine, this.ref]) {
      for (const g of groups) t.upsertGroup(g);
      for (const e of enis) t.upsertInterface(e);
      for (const r of rules) t.upsertRule(r);
    }
  }

  private rulesOf(ids: readonly string[]): Rule[] {
    return [...this.ref.rules.values()].filter((r) => ids.includes(r.securityGroupId));
  }

  /** The group's analysis: an interface in it alone. */
  group(id: string, extra: Partial<AnalysisInput> = {}): Analysis {
    const g = this.ref.groups.get(id)!;
    return analyze({
      ...groupSubject(g, this.rulesOf([id]), (x) => this.engine.membersOf(x)),
      ...extra,
    });
  }

  iface(id: string, extra: Partial<AnalysisInput> = {}): Analysis {
    const e = this.ref.enis.get(id)!;
    const groups = e.securityGroupIds.map((g) => this.ref.groups.get(g)!);
    return analyze({
      ...interfaceSubject(e, groups, this.rulesOf(e.securityGroupIds), (x) =>
        this.engine.membersOf(x),
      ),
      withGroups: true,
      ...extra,
    });
  }

  /** The reference's decision of a witness at a probe interface alone in `groupId`. */
  decideInGroup(groupId: string, w: Witness): Decision {
    this.ref.upsertInterface(eni('eni-probe', formatAddr(w.local), [groupId]));
    try {
      return this.ref.decide(witnessPacket(w, 'eni-probe'));
    } finally {
      this.ref.removeInterface('eni-probe');
    }
  }
}

const only = (a: Analysis, type: Finding['type']) => a.findings.filter((f) => f.type === type);
const ruleResult = (a: Analysis, id: string) => a.rules.find((r) => r.rule.id === id)!;
const ids = (rs: readonly Rule[]) => rs.map((r) => r.id);

describe('exposure', () => {
  test('SSH open to 0.0.0.0/0: one critical finding for port 22, the whole public IPv4 space, a public accepted witness', () => {
    const open = rule();
    const m = new Model([group('sg-web')], [], [open]);
    const a = m.group('sg-web');
    const [f, ...rest] = only(a, 'Exposure');
    assert.equal(rest.length, 0, 'only port 22 of the list is open');
    assert.equal(f!.port, 22);
    assert.equal(f!.severity, 'critical');
    assert.deepEqual(ids(f!.rules), [open.id]);
    const publicV4 = PUBLIC4.reduce((n, s) => n + BigInt(s.hi) - BigInt(s.lo) + 1n, 0n);
    assert.equal(f!.reach![4], publicV4);
    assert.equal(f!.reach![6], 0n);
    const w = f!.witness!;
    assert.equal(w.localPort, 22);
    assert.ok(isPublic(4, w.peer.a), formatAddr(w.peer));
    assert.equal(m.decideInGroup('sg-web', w).verdict, 'accept');
    assert.match(f!.message, /port 22 .*100\.00% of them/);
  });

  test('severity by size: a /32 is low, a /24 medium, a /16 high; documentation and private ranges are not public', () => {
    const sev = (cidr: string, port = 3306) => {
      const m = new Model(
        [group('sg-web')],
        [],
        [rule({ peerCidr: cidr, portRange: { from: port, to: port } })],
      );
      return only(m.group('sg-web'), 'Exposure').map((f) => [f.port, f.severity, f.reach![4]]);
    };
    assert.deepEqual(sev('8.8.8.8/32'), [[3306, 'low', 1n]]);
    assert.deepEqual(sev('8.8.8.0/24'), [[3306, 'medium', 256n]]);
    assert.deepEqual(sev('8.8.0.0/16'), [[3306, 'high', 65536n]]);
    assert.deepEqual(sev('203.0.113.0/24'), []);
    assert.deepEqual(sev('10.0.0.0/8'), []);
    assert.deepEqual(sev('192.168.0.0/16'), []);
  });

  test('an earlier drop carves out its part; a port outside the list is not reported; the list is configurable', () => {
    const drop = rule({
      policy: 'drop',
      peerCidr: '8.8.8.0/24',
      portRange: { from: 1, to: 65535 },
    });
    const open = rule({ priority: 2, portRange: { from: 1, to: 65535 } });
    const m = new Model([group('sg-web')], [], [drop, open]);
    const a = m.group('sg-web', { exposurePorts: [80, 5432] });
    const found = only(a, 'Exposure');
    assert.deepEqual(
      found.map((f) => f.port),
      [80, 5432],
    );
    const all = only(m.group('sg-web', { exposurePorts: [8080] }), 'Exposure')[0]!;
    const full = only(
      new Model([group('sg-web')], [], [open]).group('sg-web', { exposurePorts: [8080] }),
      'Exposure',
    )[0]!;
    assert.equal(full.reach![4] - all.reach![4], 256n);
    for (const f of found) assert.notEqual(formatAddr(f.witness!.peer).slice(0, 6), '8.8.8.');
  });

  test('every listed port gets its own finding; udp and the all protocol count', () => {
    const memcached = rule({ protocol: 'udp', portRange: { from: 11211, to: 11211 } });
    const any = rule({
      protocol: 'all',
      portRange: { from: -1, to: -1 },
      priority: 5,
      peerCidr: '1.1.1.1/32',
    });
    const m = new Model([group('sg-web')], [], [memcached, any]);
    const a = m.group('sg-web');
    const found = only(a, 'Exposure');
    assert.equal(found.length, 21, 'the all rule reaches every listed port');
    const f = found.find((x) => x.port === 11211)!;
    assert.equal(f.severity, 'critical');
    assert.deepEqual(ids(f.rules), [memcached.id, any.id]);
    assert.equal(m.decideInGroup('sg-web', f.witness!).verdict, 'accept');
    const ssh = found.find((x) => x.port === 22)!;
    assert.equal(ssh.severity, 'low');
    assert.deepEqual(ids(ssh.rules), [any.id]);
  });

  test('IPv6: ::/0 to 3389 is critical by the IPv6 space it opens; the witness is a public IPv6 peer', () => {
    const open = rule({
      peerCidr: null,
      peerIpv6Cidr: '::/0',
      portRange: { from: 3389, to: 3389 },
    });
    const m = new Model([group('sg-web')], [], [open]);
    const [f] = only(m.group('sg-web'), 'Exposure');
    assert.equal(f!.port, 3389);
    assert.equal(f!.severity, 'critical');
    assert.equal(f!.reach![4], 0n);
    assert.ok(f!.reach![6] > 2n ** 124n);
    assert.equal(f!.witness!.peer.family, 6);
    assert.equal(m.decideInGroup('sg-web', f!.witness!).verdict, 'accept');
    assert.match(f!.message, /public IPv6 space/);
  });
});

describe('conflict', () => {
  test('accept and drop of equal priority that overlap: a Conflict with a packet both match, decided by the drop', () => {
    const accept = rule({ portRange: { from: 20, to: 30 }, peerCidr: '10.0.0.0/8' });
    const drop = rule({ policy: 'drop', portRange: { from: 25, to: 40 }, peerCidr: '10.1.0.0/16' });
    const m = new Model([group('sg-web')], [], [accept, drop]);
    const [c, ...rest] = only(m.group('sg-web'), 'Conflict');
    assert.equal(rest.length, 0);
    assert.deepEqual(ids(c!.rules), [drop.id, accept.id]);
    assert.equal(c!.severity, 'medium');
    const d = m.decideInGroup('sg-web', c!.witness!);
    assert.equal(d.rule?.securityGroupRuleId, drop.id);
    assert.ok(m.ref.matches(accept, witnessPacket(c!.witness!, 'x')));
  });

  test('no conflict at different priorities, nor between rules that do not overlap', () => {
    const m = new Model(
      [group('sg-web')],
      [],
      [
        rule({ portRange: { from: 20, to: 30 } }),
        rule({ policy: 'drop', priority: 2, portRange: { from: 25, to: 40 } }),
        rule({ policy: 'drop', portRange: { from: 31, to: 40 } }),
      ],
    );
    assert.deepEqual(only(m.group('sg-web'), 'Conflict'), []);
  });
});

describe('unreachable', () => {
  test('Shadowed: a drop under an earlier accept of everything never has its effect (high), blocked by the accept', () => {
    const all = rule({ protocol: 'all', portRange: { from: -1, to: -1 } });
    const drop = rule({ policy: 'drop', priority: 2 });
    const m = new Model([group('sg-web')], [], [all, drop]);
    const a = m.group('sg-web');
    const r = ruleResult(a, drop.id);
    assert.equal(r.reachable, false);
    assert.equal(r.kind, 'Shadowed');
    assert.deepEqual(ids(r.blockedBy), [all.id]);
    const [f] = only(a, 'Unreachable');
    assert.equal(f!.severity, 'high');
    assert.deepEqual(ids(f!.rules), [drop.id, all.id]);
    assert.match(f!.message, /never decides/);
    assert.equal(ruleResult(a, all.id).reachable, true);
  });

  test('Redundant: an accept inside an earlier accept (low); the cover names the drop that also takes part of it', () => {
    const drop = rule({ policy: 'drop', peerCidr: '10.1.2.0/24' });
    const wide = rule({ priority: 2, peerCidr: '10.0.0.0/8' });
    const narrow = rule({ priority: 3, peerCidr: '10.1.0.0/16' });
    const m = new Model([group('sg-web')], [], [drop, wide, narrow]);
    const a = m.group('sg-web');
    const r = ruleResult(a, narrow.id);
    assert.equal(r.kind, 'Redundant');
    assert.deepEqual(ids(r.blockedBy), [drop.id, wide.id]);
    const f = only(a, 'Unreachable').find((x) => x.rules[0]!.id === narrow.id)!;
    assert.equal(f.severity, 'low');
  });

  test('a cover of several rules, none enough alone', () => {
    const low = rule({ portRange: { from: 1, to: 1000 } });
    const high = rule({ portRange: { from: 1001, to: 65535 } });
    const later = rule({ priority: 9, policy: 'drop', portRange: { from: 500, to: 2000 } });
    const m = new Model([group('sg-web')], [], [low, high, later]);
    const r = ruleResult(m.group('sg-web'), later.id);
    assert.equal(r.kind, 'Shadowed');
    assert.deepEqual(ids(r.blockedBy), [low.id, high.id]);
  });

  test('a near-end CIDR narrows a rule, it does not make it unreachable; the witness holds a local address inside it', () => {
    const near = rule({ localCidr: '10.9.0.0/16' });
    const m = new Model([group('sg-web')], [], [near]);
    const r = ruleResult(m.group('sg-web'), near.id);
    assert.equal(r.reachable, true);
    assert.match(formatAddr(r.witness!.local), /^10\.9\./);
    assert.equal(m.decideInGroup('sg-web', r.witness!).rule?.securityGroupRuleId, near.id);
  });
});

describe('empty references and rules without effect', () => {
  test('a group rule whose group has no members: EmptyReference, and Unreachable (it matches nothing)', () => {
    const ref = rule({ peerCidr: null, peerGroup: { groupId: 'sg-db', ownerUid: '1' } });
    const m = new Model([group('sg-web'), group('sg-db')], [], [ref]);
    const a = m.group('sg-web');
    const [e] = only(a, 'EmptyReference');
    assert.deepEqual(ids(e!.rules), [ref.id]);
    assert.equal(e!.severity, 'medium');
    assert.match(e!.message, /sg-db, which has no members now/);
    const r = ruleResult(a, ref.id);
    assert.equal(r.reachable, false);
    assert.deepEqual(r.blockedBy, []);
    assert.match(only(a, 'Unreachable')[0]!.message, /matches no packet at all/);
  });

  test('a group rule is judged by the members it has now, and says so', () => {
    const ref = rule({ peerCidr: null, peerGroup: { groupId: 'sg-db', ownerUid: '1' } });
    const inside = rule({ priority: 2, peerCidr: '10.0.1.0/24' });
    const m = new Model(
      [group('sg-web'), group('sg-db')],
      [eni('eni-db', '10.0.1.5', ['sg-db'])],
      [ref, inside],
    );
    const a = m.group('sg-web');
    assert.deepEqual(only(a, 'EmptyReference'), []);
    const r = ruleResult(a, ref.id);
    assert.equal(formatAddr(r.witness!.peer), '10.0.1.5');
    assert.equal(m.decideInGroup('sg-web', r.witness!).rule?.securityGroupRuleId, ref.id);
    // the /24 accept still decides the rest of its range
    assert.equal(ruleResult(a, inside.id).reachable, true);
    const noEffect = only(a, 'NoEffect').find((f) => f.rules[0]!.id === ref.id);
    assert.match(noEffect!.message, /sg-db by its 1 member address/);
  });

  test('NoEffect: an ingress drop that restates the default, and an accept inside a broader later accept', () => {
    const drop = rule({ policy: 'drop', portRange: { from: 23, to: 23 } });
    const narrow = rule({ peerCidr: '10.1.0.0/16', portRange: { from: 80, to: 80 } });
    const broad = rule({ priority: 2, peerCidr: '10.0.0.0/8', portRange: { from: 80, to: 80 } });
    const m = new Model([group('sg-web')], [], [drop, narrow, broad]);
    const a = m.group('sg-web');
    const found = only(a, 'NoEffect');
    assert.deepEqual(
      found.map((f) => f.rules[0]!.id),
      [drop.id, narrow.id],
    );
    assert.match(found[0]!.message, /the default would drop them/);
    assert.deepEqual(ids(found[1]!.rules), [narrow.id, broad.id]);
    for (const f of found) {
      assert.equal(m.decideInGroup('sg-web', f.witness!).rule?.securityGroupRuleId, f.rules[0]!.id);
    }
    assert.equal(ruleResult(a, broad.id).reachable, true);
    assert.ok(!found.some((f) => f.rules[0]!.id === broad.id));
  });

  test('egress: a drop restates the default of an enterprise group, and matters in a normal one', () => {
    const drop = rule({ direction: 'egress', policy: 'drop' });
    const noEffect = (type: 'normal' | 'enterprise') =>
      only(new Model([group('sg-web', { type })], [], [{ ...drop }]).group('sg-web'), 'NoEffect')
        .length;
    assert.equal(noEffect('enterprise'), 1);
    assert.equal(noEffect('normal'), 0);
  });
});

describe('inner access decides before every rule', () => {
  const members = [eni('eni-a', '10.0.1.10', ['sg-web']), eni('eni-b', '10.0.1.11', ['sg-web'])];

  test('with Accept, a drop of the members’ traffic never has its effect: Shadowed by inner access', () => {
    const drop = rule({
      policy: 'drop',
      peerCidr: '10.0.1.10/31',
      portRange: { from: 1, to: 65535 },
    });
    const m = new Model([group('sg-web')], members, [drop]);
    const r = ruleResult(m.group('sg-web'), drop.id);
    assert.equal(r.reachable, false);
    assert.equal(r.kind, 'Shadowed');
    assert.equal(r.blockedByInnerAccess, true);
    assert.deepEqual(r.blockedBy, []);
    assert.equal(only(m.group('sg-web'), 'Unreachable')[0]!.innerAccess, true);
    // over the internet NicType inner access does not apply
    const net = rule({ ...drop, id: 'sgr-net', nicType: 'internet' });
    assert.equal(
      ruleResult(new Model([group('sg-web')], members, [net]).group('sg-web'), 'sgr-net').reachable,
      true,
    );
  });

  test('with Drop, the rule decides', () => {
    const drop = rule({
      policy: 'drop',
      peerCidr: '10.0.1.10/31',
      portRange: { from: 1, to: 65535 },
    });
    const m = new Model([group('sg-web', { innerAccessPolicy: 'Drop' })], members, [drop]);
    const r = ruleResult(m.group('sg-web'), drop.id);
    assert.equal(r.reachable, true);
    assert.equal(formatAddr(r.witness!.peer).startsWith('10.0.1.1'), true);
  });

  test('at an interface, its own address is no inner peer: a drop of it stays reachable', () => {
    const drop = rule({
      policy: 'drop',
      peerCidr: '10.0.1.10/32',
      portRange: { from: 1, to: 65535 },
    });
    const m = new Model([group('sg-web')], members, [drop]);
    assert.equal(ruleResult(m.iface('eni-a'), drop.id).reachable, true);
    assert.equal(ruleResult(m.iface('eni-b'), drop.id).reachable, false);
  });
});

describe('an interface in several groups', () => {
  test('a rule reachable in its group is shadowed at the interface by another group’s rule, and the finding says which', () => {
    const base = rule({
      securityGroupId: 'sg-base',
      protocol: 'all',
      portRange: { from: -1, to: -1 },
      policy: 'drop',
    });
    const web = rule({ securityGroupId: 'sg-web', priority: 2 });
    const m = new Model(
      [group('sg-web'), group('sg-base')],
      [eni('eni-1', '10.0.1.20', ['sg-web', 'sg-base'])],
      [base, web],
    );
    assert.equal(ruleResult(m.group('sg-web'), web.id).reachable, true);
    const a = m.iface('eni-1');
    const r = ruleResult(a, web.id);
    assert.equal(r.reachable, false);
    assert.equal(r.kind, 'Shadowed');
    assert.equal(r.blockedByOtherGroups, true);
    assert.deepEqual(ids(r.blockedBy), [base.id]);
    const f = only(a, 'Unreachable').find((x) => x.rules[0]!.id === web.id)!;
    assert.match(f.message, new RegExp(`${base.id} of sg-base`));
    assert.match(f.message, /other groups/);
  });

  test('an enterprise group among them makes egress drop by default', () => {
    const m = new Model(
      [group('sg-web'), group('sg-ent', { type: 'enterprise', innerAccessPolicy: 'Drop' })],
      [eni('eni-1', '10.0.1.20', ['sg-ent'])],
      [rule({ securityGroupId: 'sg-ent', direction: 'egress', policy: 'drop' })],
    );
    assert.equal(only(m.iface('eni-1'), 'NoEffect').length, 1);
  });
});

describe('what if', () => {
  test('a drop added before an accept: one change, Accept by the rule → Drop by the added rule', () => {
    const open = rule({ peerCidr: '0.0.0.0/0' });
    const m = new Model([group('sg-web')], [], [open]);
    const add = rule({ id: 'Add.1', policy: 'drop', peerCidr: '8.8.8.0/24', seq: 1000 });
    const a = m.group('sg-web', { whatIf: { add: [add], remove: new Set() } });
    assert.equal(a.changes.length, 1);
    const [c] = a.changes;
    assert.equal(c!.before.verdict, 'accept');
    assert.equal(c!.before.rule?.securityGroupRuleId, open.id);
    assert.equal(c!.after.verdict, 'drop');
    assert.equal(c!.after.rule?.securityGroupRuleId, 'Add.1');
    assert.match(formatAddr(c!.witness.peer), /^8\.8\.8\./);
    // Rules and findings are those after the change
    assert.deepEqual(
      a.rules.map((r) => r.rule.id),
      ['Add.1', open.id],
    );
  });

  test('removing the only accept: back to the default drop; a change that changes nothing: no changes', () => {
    const open = rule();
    const m = new Model([group('sg-web')], [], [open]);
    const gone = m.group('sg-web', { whatIf: { add: [], remove: new Set([open.id]) } });
    assert.equal(gone.changes.length, 1);
    assert.equal(gone.changes[0]!.after.reason, 'default');
    assert.equal(gone.changes[0]!.after.verdict, 'drop');
    assert.deepEqual(gone.rules, []);
    const same = rule({ id: 'Add.1', priority: 5, seq: 1000 });
    assert.deepEqual(m.group('sg-web', { whatIf: { add: [same], remove: new Set() } }).changes, []);
  });

  test('IPv6 and egress: removing an egress drop of an IPv6 range opens it again', () => {
    const drop = rule({
      direction: 'egress',
      policy: 'drop',
      peerCidr: null,
      peerIpv6Cidr: '2001:db8::/32',
      localIpv6Cidr: 'fd00::/8',
    });
    const m = new Model([group('sg-web')], [], [drop]);
    const r = ruleResult(m.group('sg-web'), drop.id);
    assert.equal(r.witness!.peer.family, 6);
    assert.equal(r.witness!.local.family, 6);
    assert.equal(m.decideInGroup('sg-web', r.witness!).rule?.securityGroupRuleId, drop.id);
    const [c] = m.group('sg-web', { whatIf: { add: [], remove: new Set([drop.id]) } }).changes;
    assert.equal(c!.direction, 'egress');
    assert.equal(c!.after.verdict, 'accept');
    assert.equal(formatAddr(c!.witness.peer).startsWith('2001:db8:'), true);
  });
});

test('public addresses: the special-purpose ranges are not public', () => {
  for (const ip of [
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '100.64.0.1',
    '127.0.0.1',
    '169.254.1.1',
    '192.0.2.1',
    '198.18.0.1',
    '224.0.0.1',
    '240.0.0.1',
    '255.255.255.255',
    '0.1.2.3',
  ]) {
    assert.equal(isPublic(4, parseAddress(ip).a), false, ip);
  }
  for (const ip of ['8.8.8.8', '1.1.1.1', '203.0.114.1', '100.128.0.1']) {
    assert.equal(isPublic(4, parseAddress(ip).a), true, ip);
  }
  const v6 = (s: string) => {
    const a = parseAddress(s);
    return (BigInt(a.a) << 96n) | (BigInt(a.b) << 64n) | (BigInt(a.c) << 32n) | BigInt(a.d);
  };
  for (const ip of [
    '::1',
    'fe80::1',
    'fd00::1',
    'ff02::1',
    '2001:db8::1',
    '2002::1',
    '::ffff:8.8.8.8',
    '4000::1',
  ]) {
    assert.equal(isPublic(6, v6(ip)), false, ip);
  }
  assert.equal(isPublic(6, v6('2400:cb00::1')), true);
});
