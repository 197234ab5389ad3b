import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SecurityGroup } from '../../src/domain/types.js';
import {
  Engine,
  formatAddr,
  makePacket,
  type PacketInput,
  parseAddress,
  parseCidr,
  UnknownInterfaceError,
} from '../../src/engine/index.js';
import { eni, group, rule } from './fixtures.js';

function setup(groups: SecurityGroup[] = [group('sg-a')], foldLimit?: number): Engine {
  const e = new Engine({ foldLimit });
  for (const g of groups) e.upsertGroup(g);
  e.upsertInterface(
    eni(
      'eni-1',
      '10.0.0.1',
      groups.map((g) => g.id),
    ),
  );
  return e;
}

const pkt = (over: Partial<PacketInput> = {}) =>
  makePacket({
    interfaceId: 'eni-1',
    direction: 'ingress',
    protocol: 'tcp',
    localAddr: '10.0.0.1',
    localPort: 22,
    peerAddr: '192.168.1.5',
    peerPort: 40000,
    ...over,
  });

describe('engine semantics', () => {
  test('drop beats accept at equal priority; the earliest rule is reported', () => {
    const e = setup();
    e.upsertRule(rule('r-accept', { priority: 5 }));
    e.upsertRule(rule('r-drop2', { priority: 5, policy: 'drop' }));
    e.upsertRule(rule('r-drop1', { priority: 5, policy: 'drop', seq: 0 }));
    const d = e.decide(pkt());
    assert.equal(d.verdict, 'drop');
    assert.equal(d.reason, 'rule');
    assert.deepEqual(d.rule, {
      securityGroupId: 'sg-a',
      securityGroupRuleId: 'r-drop1',
      priority: 5,
      policy: 'drop',
    });
  });

  test('priority 1 accept beats priority 2 drop', () => {
    const e = setup();
    e.upsertRule(rule('r-drop', { priority: 2, policy: 'drop' }));
    e.upsertRule(rule('r-accept', { priority: 1 }));
    assert.equal(e.decide(pkt()).rule?.securityGroupRuleId, 'r-accept');
    e.removeRule('r-accept');
    assert.equal(e.decide(pkt()).rule?.securityGroupRuleId, 'r-drop');
    e.upsertRule(rule('r-drop', { priority: 2, policy: 'drop', portRange: { from: 80, to: 80 } }));
    assert.deepEqual(e.decide(pkt()), { verdict: 'drop', reason: 'default' });
  });

  test('ports: ingress dst = local port, egress dst = peer port; source port range', () => {
    const e = setup();
    e.upsertRule(
      rule('in', { portRange: { from: 20, to: 25 }, sourcePortRange: { from: 1000, to: 2000 } }),
    );
    e.upsertRule(rule('out', { direction: 'egress', portRange: { from: 443, to: 443 } }));
    assert.equal(e.decide(pkt({ peerPort: 1500 })).reason, 'rule');
    assert.equal(e.decide(pkt({ peerPort: 2001 })).reason, 'default');
    assert.equal(
      e.decide(pkt({ direction: 'egress', localPort: 5, peerPort: 443 })).reason,
      'rule',
    );
    assert.equal(
      e.decide(pkt({ direction: 'egress', localPort: 443, peerPort: 5 })).reason,
      'default',
    );
  });

  test('inner access: Accept lets members in before any rule, both ways; with Drop rules decide', () => {
    const e = setup([group('sg-a', { innerAccessPolicy: 'Accept' })]);
    e.upsertInterface(eni('eni-2', '10.0.0.2', ['sg-a']));
    e.upsertInterface(eni('eni-3', '10.0.0.3', ['sg-b']));
    const from2 = pkt({ peerAddr: '10.0.0.2' });
    assert.deepEqual(e.decide(from2), { verdict: 'accept', reason: 'inner-access' });
    assert.deepEqual(e.decide(pkt({ peerAddr: '10.0.0.3' })), {
      verdict: 'drop',
      reason: 'default',
    });
    // internet traffic never gets inner access
    assert.equal(e.decide(pkt({ peerAddr: '10.0.0.2', nicType: 'internet' })).verdict, 'drop');
    // Accept takes precedence over user rules: a drop of the highest priority does not cut
    // members apart, ingress or egress
    e.upsertRule(rule('deny', { priority: 1, policy: 'drop', peerCidr: '10.0.0.0/24' }));
    e.upsertRule(
      rule('deny-out', { priority: 1, policy: 'drop', direction: 'egress', peerCidr: '0.0.0.0/0' }),
    );
    assert.deepEqual(e.decide(from2), { verdict: 'accept', reason: 'inner-access' });
    const to2 = pkt({ direction: 'egress', peerAddr: '10.0.0.2', localPort: 40000, peerPort: 22 });
    assert.deepEqual(e.decide(to2), { verdict: 'accept', reason: 'inner-access' });
    // a non-member is still judged by the rules
    assert.equal(e.decide(pkt({ peerAddr: '10.0.0.3' })).rule?.securityGroupRuleId, 'deny');
    // Drop: rules decide, and an accept rule can open traffic between members
    e.upsertGroup(group('sg-a', { innerAccessPolicy: 'Drop' }));
    assert.equal(e.decide(from2).rule?.securityGroupRuleId, 'deny');
    e.removeRule('deny');
    assert.deepEqual(e.decide(from2), { verdict: 'drop', reason: 'default' });
    e.upsertRule(rule('open', { peerGroup: { groupId: 'sg-a', ownerUid: '1' }, peerCidr: null }));
    assert.equal(e.decide(from2).rule?.securityGroupRuleId, 'open');
    // the interface's own address is not "another interface"
    e.upsertGroup(group('sg-a', { innerAccessPolicy: 'Accept' }));
    e.removeRule('open');
    assert.equal(e.decide(pkt({ peerAddr: '10.0.0.1' })).verdict, 'drop');
  });

  test('secondary addresses are addresses of the interface: group references and inner access', () => {
    const e = setup([group('sg-a'), group('sg-b')]);
    e.upsertRule(rule('from-b', { peerGroup: { groupId: 'sg-b', ownerUid: '1' }, peerCidr: null }));
    const two = { ...eni('eni-2', '10.0.0.2', ['sg-b']), secondaryIpAddresses: ['10.0.0.20'] };
    e.upsertInterface(two);
    assert.equal(e.decide(pkt({ peerAddr: '10.0.0.20' })).rule?.securityGroupRuleId, 'from-b');
    // readdressed: the old secondary no longer matches, the new one does
    e.upsertInterface({ ...two, secondaryIpAddresses: ['10.0.0.21'] });
    assert.deepEqual(e.decide(pkt({ peerAddr: '10.0.0.20' })), {
      verdict: 'drop',
      reason: 'default',
    });
    assert.equal(e.decide(pkt({ peerAddr: '10.0.0.21' })).rule?.securityGroupRuleId, 'from-b');
    // inner access of sg-b from eni-3's secondary address
    e.upsertGroup(group('sg-b', { innerAccessPolicy: 'Accept' }));
    e.upsertInterface({
      ...eni('eni-3', '10.0.0.3', ['sg-b']),
      secondaryIpAddresses: ['10.0.0.30'],
    });
    const at2 = pkt({ interfaceId: 'eni-2', localAddr: '10.0.0.2', peerAddr: '10.0.0.30' });
    assert.deepEqual(e.decide(at2), { verdict: 'accept', reason: 'inner-access' });
  });

  test('icmpv6 rules match ICMPv6 packets only; all matches them too', () => {
    const e = setup();
    const v6 = pkt({ protocol: 'icmpv6', peerAddr: '2001:db8::5', localAddr: '2001:db8::1' });
    assert.deepEqual(e.decide(v6), { verdict: 'drop', reason: 'default' });
    e.upsertRule(
      rule('v6', {
        protocol: 'icmpv6',
        portRange: { from: -1, to: -1 },
        peerCidr: null,
        peerIpv6Cidr: '2001:db8::/32',
      }),
    );
    assert.equal(e.decide(v6).rule?.securityGroupRuleId, 'v6');
    assert.equal(e.decide({ ...v6, protocol: 'icmp' }).verdict, 'drop');
    e.removeRule('v6');
    e.upsertRule(
      rule('any', {
        protocol: 'all',
        portRange: { from: -1, to: -1 },
        peerCidr: null,
        peerIpv6Cidr: '::/0',
      }),
    );
    assert.equal(e.decide(v6).rule?.securityGroupRuleId, 'any');
  });

  test('egress default: accept in normal groups, drop in enterprise groups', () => {
    const out = pkt({ direction: 'egress', peerAddr: '8.8.8.8', peerPort: 53, protocol: 'udp' });
    assert.deepEqual(setup().decide(out), { verdict: 'accept', reason: 'default' });
    const ent = setup([group('sg-e', { type: 'enterprise' })]);
    assert.deepEqual(ent.decide(out), { verdict: 'drop', reason: 'default' });
    const mixed = setup([group('sg-a'), group('sg-e', { type: 'enterprise' })]);
    assert.equal(mixed.decide(out).verdict, 'drop');
  });

  test('no groups: ingress drop, egress accept; unknown interface throws', () => {
    const e = setup([]);
    assert.deepEqual(e.decide(pkt()), { verdict: 'drop', reason: 'default' });
    assert.equal(e.decide(pkt({ direction: 'egress' })).verdict, 'accept');
    assert.throws(() => e.decide(pkt({ interfaceId: 'eni-x' })), UnknownInterfaceError);
  });

  test('established replies are accepted whatever the rules say', () => {
    const e = setup([group('sg-e', { type: 'enterprise' })]);
    e.upsertRule(rule('deny', { securityGroupId: 'sg-e', policy: 'drop' }));
    assert.deepEqual(e.decide(pkt({ established: true })), {
      verdict: 'accept',
      reason: 'established',
    });
  });

  test('protocol all matches every protocol and ignores ports', () => {
    const e = setup();
    e.upsertRule(rule('all', { protocol: 'all', portRange: { from: -1, to: -1 } }));
    for (const protocol of ['tcp', 'udp', 'icmp', 'gre'] as const) {
      assert.equal(e.decide(pkt({ protocol, localPort: 9999 })).rule?.securityGroupRuleId, 'all');
    }
    e.upsertRule(rule('icmp', { protocol: 'icmp', portRange: { from: -1, to: -1 }, seq: -1 }));
    assert.equal(e.decide(pkt({ protocol: 'icmp' })).rule?.securityGroupRuleId, 'icmp');
    assert.equal(e.decide(pkt({ protocol: 'gre' })).rule?.securityGroupRuleId, 'all');
  });

  test('group reference follows membership changes', () => {
    const e = setup();
    e.upsertRule(rule('ref', { peerCidr: null, peerGroup: { groupId: 'sg-web', ownerUid: '1' } }));
    e.upsertInterface(eni('eni-2', '10.0.0.2', ['sg-db']));
    const from2 = pkt({ peerAddr: '10.0.0.2' });
    assert.equal(e.decide(from2).reason, 'default');
    e.upsertInterface(eni('eni-2', '10.0.0.2', ['sg-db', 'sg-web']));
    assert.equal(e.decide(from2).rule?.securityGroupRuleId, 'ref');
    e.upsertInterface(eni('eni-2', '10.0.0.9', ['sg-web']));
    assert.equal(e.decide(from2).reason, 'default');
    assert.equal(e.decide(pkt({ peerAddr: '10.0.0.9' })).reason, 'rule');
    e.removeInterface('eni-2');
    assert.equal(e.decide(pkt({ peerAddr: '10.0.0.9' })).reason, 'default');
  });

  for (const foldLimit of [256, 0, 1]) {
    test(`group reference: IPv6 members, shared addresses, changes (fold limit ${foldLimit})`, () => {
      const e = setup([group('sg-a')], foldLimit);
      e.upsertRule(
        rule('ref', { peerCidr: null, peerGroup: { groupId: 'sg-web', ownerUid: '1' } }),
      );
      e.upsertRule(rule('lower', { peerCidr: '0.0.0.0/0', priority: 5, policy: 'drop' }));
      e.upsertInterface(eni('eni-2', 'fd00::2', ['sg-web']));
      e.upsertInterface(eni('eni-3', '10.0.0.3', ['sg-web']));
      e.upsertInterface(eni('eni-4', '10.0.0.3', ['sg-web'])); // same address, other VPC
      e.compileAll();
      const v6 = pkt({ peerAddr: 'fd00::2', localAddr: 'fd00::1' });
      const from3 = pkt({ peerAddr: '10.0.0.3' });
      assert.equal(e.decide(v6).rule?.securityGroupRuleId, 'ref');
      assert.equal(e.decide(pkt({ peerAddr: 'fd00::3', localAddr: 'fd00::1' })).reason, 'default');
      assert.equal(e.decide(from3).rule?.securityGroupRuleId, 'ref');
      // one of the two holders of 10.0.0.3 leaves: the other still makes it a member
      e.upsertInterface(eni('eni-4', '10.0.0.3', ['sg-db']));
      assert.equal(e.decide(from3).rule?.securityGroupRuleId, 'ref');
      e.removeInterface('eni-3');
      assert.equal(e.decide(from3).rule?.securityGroupRuleId, 'lower');
      // readdressed member: the old address stops matching, the new one starts
      e.upsertInterface(eni('eni-2', 'fd00::7', ['sg-web']));
      assert.equal(e.decide(v6).reason, 'default');
      assert.equal(
        e.decide(pkt({ peerAddr: 'fd00::7', localAddr: 'fd00::1' })).rule?.securityGroupRuleId,
        'ref',
      );
      // a group's metadata changing does not touch membership
      e.upsertGroup(group('sg-web', { description: 'x' }));
      assert.equal(
        e.decide(pkt({ peerAddr: 'fd00::7', localAddr: 'fd00::1' })).rule?.securityGroupRuleId,
        'ref',
      );
      // the deciding interface itself changes between two decisions
      e.upsertInterface(eni('eni-1', '10.0.0.1', []));
      assert.equal(e.decide(from3).reason, 'default');
      e.removeInterface('eni-1');
      assert.throws(() => e.decide(from3), UnknownInterfaceError);
    });
  }

  test('IPv6: v4 CIDRs never match v6 peers and vice versa; near-end CIDRs', () => {
    const e = setup();
    e.upsertRule(rule('v6', { peerCidr: null, peerIpv6Cidr: '2001:db8::/32' }));
    e.upsertRule(rule('v4all', { peerCidr: '0.0.0.0/0', localCidr: '10.0.0.0/24', priority: 2 }));
    assert.equal(e.decide(pkt({ peerAddr: '2001:db8::1' })).rule?.securityGroupRuleId, 'v6');
    assert.equal(e.decide(pkt({ peerAddr: '2001:db9::1' })).reason, 'default');
    assert.equal(e.decide(pkt({ peerAddr: '1.2.3.4' })).rule?.securityGroupRuleId, 'v4all');
    assert.equal(e.decide(pkt({ peerAddr: '1.2.3.4', localAddr: '10.0.1.1' })).reason, 'default');
    // local v6 address vs a v4 near-end CIDR: no match
    assert.equal(e.decide(pkt({ peerAddr: '1.2.3.4', localAddr: 'fd00::1' })).reason, 'default');
    // ::/0 matches every v6 peer, not v4 ones
    e.upsertRule(rule('v6all', { peerCidr: null, peerIpv6Cidr: '::/0', priority: 3 }));
    assert.equal(e.decide(pkt({ peerAddr: 'ffff::ffff' })).rule?.securityGroupRuleId, 'v6all');
    assert.equal(
      e.decide(pkt({ peerAddr: '255.255.255.255', localAddr: '10.9.0.1' })).reason,
      'default',
    );
  });

  test('nicType must match', () => {
    const e = setup();
    e.upsertRule(rule('pub', { nicType: 'internet' }));
    assert.equal(e.decide(pkt()).reason, 'default');
    assert.equal(e.decide(pkt({ nicType: 'internet' })).reason, 'rule');
  });

  test('removeGroup drops its rules', () => {
    const e = setup();
    e.upsertRule(rule('r'));
    e.removeGroup('sg-a');
    assert.equal(e.decide(pkt()).reason, 'default');
  });

  test('decideBetween needs both egress at the sender and ingress at the receiver', () => {
    const e = setup([group('sg-a'), group('sg-b')]);
    e.upsertInterface(eni('eni-2', '10.0.0.2', ['sg-b']));
    e.upsertRule(
      rule('in', {
        securityGroupId: 'sg-b',
        peerCidr: '10.0.0.1/32',
        portRange: { from: 80, to: 80 },
      }),
    );
    const ok = e.decideBetween('eni-1', 'eni-2', 'tcp', 50000, 80);
    assert.equal(ok.verdict, 'accept');
    assert.equal(ok.egress.reason, 'default');
    assert.equal(ok.ingress.rule?.securityGroupRuleId, 'in');
    e.upsertRule(
      rule('out', {
        securityGroupId: 'sg-a',
        direction: 'egress',
        policy: 'drop',
        peerCidr: '10.0.0.2/32',
        portRange: { from: 1, to: 65535 },
      }),
    );
    const no = e.decideBetween('eni-1', 'eni-2', 'tcp', 50000, 80);
    assert.equal(no.verdict, 'drop');
    assert.equal(no.egress.rule?.securityGroupRuleId, 'out');
  });
});

describe('addresses', () => {
  test('parse and format round-trip', () => {
    for (const s of [
      '0.0.0.0',
      '10.1.2.3',
      '255.255.255.255',
      '::',
      '2001:db8::1',
      'fd00::ffff:1',
    ]) {
      assert.equal(formatAddr(parseAddress(s)), s);
    }
    assert.equal(parseAddress('255.255.255.255').a, 0xffffffff);
    assert.throws(() => parseAddress('10.1'));
    assert.throws(() => parseAddress('nonsense'));
  });

  test('CIDR ranges', () => {
    assert.deepEqual(parseCidr('10.0.0.0/8'), { family: 4, lo: 0x0a000000, hi: 0x0affffff });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { family: 4, lo: 0, hi: 0xffffffff });
    assert.deepEqual(parseCidr('10.1.2.3/32'), { family: 4, lo: 0x0a010203, hi: 0x0a010203 });
    const v6 = parseCidr('2001:db8::/32');
    assert.equal(v6.family, 6);
    assert.equal(v6.lo, 0x20010db8n << 96n);
    assert.equal(v6.hi, (0x20010db8n << 96n) | ((1n << 96n) - 1n));
    assert.throws(() => parseCidr('10.0.0.0/33'));
  });

  test('makePacket validates', () => {
    assert.throws(() => pkt({ localPort: 70000 }));
    assert.throws(() => pkt({ protocol: 'all' as never }));
  });
});
