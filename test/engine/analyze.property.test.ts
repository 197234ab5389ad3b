/**
 * Property test of the rule analyzer against the plain reference evaluator, over random
 * worlds (test/engine/gen.ts): half analyze one group (an interface in it alone: a probe
 * interface is added to the reference for each packet), half a real interface; a third of
 * them with a random proposed change (rules added, rules removed).
 *
 * - every reachable rule's witness is decided by that rule;
 * - for every unreachable rule, sampled packets of its match space are never decided by it and
 *   are all matched by its blockers (inner access counts when it is one), by the same policy
 *   alone when Redundant, and not when Shadowed;
 * - every rule without effect decides its witness, and removing it changes no sampled verdict;
 *   every conflict's witness is decided by its drop and matched by its accept;
 * - every exposure witness is accepted and public; for random public peers and listed ports,
 *   every accepted packet is reported by its port's finding, with its deciding rule;
 * - what-if changes equal the difference of the decisions of the reference before and after
 *   the change is applied to a copy: each change's witness has its Before and After, and
 *   every sampled packet whose verdict changes is in a change of its two deciding rules.
 *
 * Reproduce a failure with ANALYZE_SEED=<seed printed>; ANALYZE_WORLDS sets the number of
 * worlds (default 300).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ipaddr from 'ipaddr.js';
import type { NetworkInterface, Rule, SecurityGroup } from '../../src/domain/types.js';
import {
  type Analysis,
  type AnalysisInput,
  analyze,
  DEFAULT_EXPOSURE_PORTS,
  groupSubject,
  interfaceSubject,
  isPublic,
  type Subject,
  type Witness,
  witnessPacket,
} from '../../src/engine/analyze/index.js';
import {
  type Addr,
  addrToBigInt,
  type Decision,
  decisionOrder,
  Engine,
  formatAddr,
  type Packet,
  type PacketProtocol,
} from '../../src/engine/index.js';
import { addrIn, buildWorld, Rng, randomAddr, type World } from './gen.js';
import { Reference } from './reference.js';

const SEED =
  process.env.ANALYZE_SEED !== undefined ? Number(process.env.ANALYZE_SEED) : Date.now() % 2 ** 31;
const WORLDS = Number(process.env.ANALYZE_WORLDS ?? 300);
const PROBE = 'eni-probe';
const PROTOCOLS: readonly PacketProtocol[] = ['tcp', 'udp', 'icmp', 'icmpv6', 'gre'];

/** The reference as it decides at the analyzed interface (a probe alone in the group). */
class Oracle {
  constructor(
    readonly ref: Reference,
    readonly at: { group: string } | { eni: string },
  ) {}

  decide(p: Packet): Decision {
    if ('eni' in this.at) return this.ref.decide({ ...p, interfaceId: this.at.eni });
    const probe: NetworkInterface = {
      ...[...this.ref.enis.values()][0]!,
      id: PROBE,
      primaryIpAddress: formatAddr(p.localAddr),
      secondaryIpAddresses: [],
      securityGroupIds: [this.at.group],
    };
    this.ref.upsertInterface(probe);
    try {
      return this.ref.decide({ ...p, interfaceId: PROBE });
    } finally {
      this.ref.removeInterface(PROBE);
    }
  }

  witness(w: Witness): Decision {
    return this.decide(witnessPacket(w, PROBE));
  }
}

const show = (p: Packet | Witness) =>
  JSON.stringify(p, (_k, v) => (v instanceof Object && 'family' in v ? formatAddr(v as Addr) : v));

const decidedBy = (d: Decision) => d.rule?.securityGroupRuleId ?? d.reason;

function copyOf(ref: Reference, remove: ReadonlySet<string>, add: readonly Rule[]): Reference {
  const out = new Reference();
  for (const g of ref.groups.values()) out.upsertGroup(g);
  for (const e of ref.enis.values()) out.upsertInterface(e);
  for (const r of ref.rules.values()) if (!remove.has(r.id)) out.upsertRule(r);
  for (const r of add) out.upsertRule(r);
  return out;
}

/** A packet the rule matches (null when it matches none, e.g. a group without members). */
function packetFor(rng: Rng, rule: Rule, members: (g: string) => readonly Addr[]): Packet | null {
  const protocol = rule.protocol === 'all' ? rng.pick(PROTOCOLS) : rule.protocol;
  let peer: Addr;
  if (rule.peerCidr !== null) peer = addrIn(rng, rule.peerCidr);
  else if (rule.peerIpv6Cidr !== null) peer = addrIn(rng, rule.peerIpv6Cidr);
  else {
    const m = members(rule.peerGroup!.groupId);
    if (m.length === 0) return null;
    peer = rng.pick(m);
  }
  const local =
    rule.localCidr !== null
      ? addrIn(rng, rule.localCidr)
      : rule.localIpv6Cidr !== null
        ? addrIn(rng, rule.localIpv6Cidr)
        : randomAddr(rng, rng.bool(0.3));
  const inRange = (r: { from: number; to: number } | null) =>
    r === null || r.from < 0 ? rng.int(0, 65535) : rng.pick([r.from, r.to, rng.int(r.from, r.to)]);
  const ports = rule.protocol === 'tcp' || rule.protocol === 'udp';
  const dport = ports ? inRange(rule.portRange) : rng.int(0, 65535);
  const sport = ports ? inRange(rule.sourcePortRange) : rng.int(0, 65535);
  const ingress = rule.direction === 'ingress';
  return {
    interfaceId: PROBE,
    direction: rule.direction,
    protocol,
    localAddr: local,
    localPort: ingress ? dport : sport,
    peerAddr: peer,
    peerPort: ingress ? sport : dport,
    nicType: rule.nicType,
  };
}

/** Whether ipaddr.js (an independent list of special-purpose ranges) calls it unicast. */
function unicast(a: Addr): boolean {
  return ipaddr.parse(formatAddr(a)).range() === 'unicast';
}

interface Case {
  world: World;
  engine: Engine;
  ref: Reference;
  oracle: Oracle;
  subject: Subject;
  input: AnalysisInput;
  analysis: Analysis;
  /** The reference as the analysis judges it: after the proposed change, if any. */
  after: Oracle;
  rng: Rng;
  label: string;
}

function build(wi: number): Case {
  const rng = new Rng((SEED + wi * 0x9e3779b1) >>> 0);
  const engine = new Engine();
  const ref = new Reference();
  const world = buildWorld(rng, [engine, ref], [3, 45]);
  // The API refuses a rule that names its own group.
  for (const r of [...world.rules.values()]) {
    if (r.peerGroup?.groupId === r.securityGroupId) {
      world.rules.delete(r.id);
      engine.removeRule(r.id);
      ref.removeRule(r.id);
    }
  }
  // Twins of the other policy at the same priority: conflicts, shadowing, redundancy.
  const maxSeq = Math.max(0, ...[...world.rules.values()].map((r) => r.seq));
  [...world.rules.values()]
    .filter(() => rng.bool(0.08))
    .forEach((r, i) => {
      const twin: Rule = {
        ...r,
        id: `sgr-twin-${i}`,
        policy: r.policy === 'accept' ? 'drop' : 'accept',
        seq: maxSeq + 1 + i,
      };
      world.rules.set(twin.id, twin);
      engine.upsertRule(twin);
      ref.upsertRule(twin);
    });
  const membersOf = (id: string) => engine.membersOf(id);
  const byGroup = (ids: readonly string[]) =>
    [...ref.rules.values()].filter((r) => ids.includes(r.securityGroupId));
  let subject: Subject;
  let at: { group: string } | { eni: string };
  let groups: readonly string[];
  if (wi % 2 === 0) {
    const g: SecurityGroup = ref.groups.get(rng.pick(world.groupIds))!;
    groups = [g.id];
    subject = groupSubject(g, byGroup(groups), membersOf);
    at = { group: g.id };
  } else {
    const eni = rng.pick([...world.enis.values()]);
    groups = [...new Set(eni.securityGroupIds)];
    const existing = groups.flatMap((id) => ref.groups.get(id) ?? []);
    subject = interfaceSubject(eni, existing, byGroup(groups), membersOf);
    at = { eni: eni.id };
  }
  let whatIf: AnalysisInput['whatIf'];
  let after = new Oracle(ref, at);
  if (wi % 3 === 0 && groups.some((g) => world.groupIds.includes(g))) {
    const own = groups.filter((g) => world.groupIds.includes(g));
    const lastSeq = Math.max(0, ...[...ref.rules.values()].map((r) => r.seq));
    const add = Array.from({ length: rng.int(0, 3) }, (_, i) => {
      const r = world.rule(rng.pick(own), `Add.${i + 1}`);
      return { ...r, seq: lastSeq + 1 + i };
    }).filter((r) => r.peerGroup?.groupId !== r.securityGroupId);
    const ids = subject.rules.map((r) => r.id);
    const remove = new Set(
      Array.from({ length: ids.length === 0 ? 0 : rng.int(0, 3) }, () => rng.pick(ids)),
    );
    whatIf = { add, remove };
    after = new Oracle(copyOf(ref, remove, add), at);
  }
  const ports = rng.bool(0.5) ? DEFAULT_EXPOSURE_PORTS : [22, 80, 443, 3306, rng.int(1, 65535)];
  const input: AnalysisInput = {
    ...subject,
    exposurePorts: ports,
    whatIf,
    directions: rng.bool(0.15) ? [rng.pick(['ingress', 'egress'] as const)] : undefined,
  };
  const label = `seed ${SEED} world ${wi} (${'eni' in at ? at.eni : `group ${at.group}`}${whatIf ? ', what-if' : ''})`;
  return {
    world,
    engine,
    ref,
    oracle: new Oracle(ref, at),
    subject,
    input,
    analysis: analyze(input),
    after,
    rng,
    label,
  };
}

function checkRules(c: Case, counts: Map<string, number>): void {
  const members = c.input.members;
  const rulesAfter = c.analysis.rules.map((r) => r.rule);
  for (const r of c.analysis.rules) {
    if (r.reachable) {
      const d = c.after.witness(r.witness!);
      assert.equal(
        decidedBy(d),
        r.rule.id,
        `${c.label}: ${r.rule.id} reachable, but its witness ${show(r.witness!)} is decided by ${decidedBy(d)}`,
      );
      bump(counts, 'reachable');
      continue;
    }
    bump(counts, `unreachable-${r.kind}`);
    if (r.blockedByOtherGroups) bump(counts, 'other-groups');
    for (let i = 0; i < 12; i++) {
      const p = packetFor(c.rng, r.rule, members);
      if (p === null) break;
      assert.ok(c.after.ref.matches(r.rule, p), `${c.label}: sample outside ${r.rule.id}`);
      const d = c.after.decide(p);
      const where = `${c.label}: ${r.rule.id} unreachable (${r.kind}, blocked by ${r.blockedBy.map((b) => b.id)}${r.blockedByInnerAccess ? ' + inner access' : ''}), packet ${show(p)} decided by ${decidedBy(d)}`;
      assert.notEqual(decidedBy(d), r.rule.id, where);
      const inner = r.blockedByInnerAccess && d.reason === 'inner-access';
      const by = (rs: readonly Rule[]) =>
        rs.some((b) => b.direction === p.direction && c.after.ref.matches(b, p));
      assert.ok(inner || by(r.blockedBy), `${where}: no blocker matches`);
      const same = r.blockedBy.filter((b) => b.policy === r.rule.policy);
      const sameInner = inner && r.rule.policy === 'accept';
      if (r.kind === 'Redundant') assert.ok(sameInner || by(same), `${where}: not redundant`);
      if (!r.blockedByOtherGroups) {
        // covered by its own group's earlier rules (or inner access) alone
        const own = [...c.after.ref.rules.values()].filter(
          (b) => b.securityGroupId === r.rule.securityGroupId && decisionOrder(b, r.rule) < 0,
        );
        assert.ok(d.reason === 'inner-access' || by(own), `${where}: not covered by its own group`);
      }
      assert.ok(rulesAfter.length > 0);
    }
    if (r.kind === 'Shadowed') {
      const other =
        r.blockedBy.some((b) => b.policy !== r.rule.policy) ||
        (r.blockedByInnerAccess && r.rule.policy === 'drop');
      assert.ok(other, `${c.label}: ${r.rule.id} Shadowed without a blocker of the other policy`);
    }
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function checkFindings(c: Case, counts: Map<string, number>): void {
  for (const f of c.analysis.findings) {
    bump(counts, f.type);
    if (f.type === 'Exposure') {
      const w = f.witness!;
      const d = c.after.witness(w);
      assert.equal(
        d.verdict,
        'accept',
        `${c.label}: exposure ${f.port} witness ${show(w)} dropped`,
      );
      assert.ok(isPublic(w.peer.family, w.peer.family === 4 ? w.peer.a : addrToBigInt(w.peer)));
      assert.ok(
        unicast(w.peer),
        `${c.label}: exposure witness peer ${formatAddr(w.peer)} not public`,
      );
      assert.equal(w.direction, 'ingress');
      assert.equal(w.localPort, f.port);
    } else if (f.type === 'Conflict') {
      const d = c.after.witness(f.witness!);
      const [drop, accept] = f.rules;
      assert.equal(decidedBy(d), drop!.id, `${c.label}: conflict witness not decided by its drop`);
      const p = witnessPacket(f.witness!, PROBE);
      assert.ok(
        c.after.ref.matches(accept!, p),
        `${c.label}: conflict witness outside ${accept!.id}`,
      );
      assert.equal(drop!.priority, accept!.priority);
      assert.equal(drop!.direction, accept!.direction);
      assert.equal(drop!.policy, 'drop');
      assert.equal(accept!.policy, 'accept');
    } else if (f.type === 'NoEffect') {
      const rule = f.rules[0]!;
      assert.equal(decidedBy(c.after.witness(f.witness!)), rule.id);
      const without = new Oracle(copyOf(c.after.ref, new Set([rule.id]), []), c.after.at);
      for (let i = 0; i < 12; i++) {
        const p = packetFor(c.rng, rule, c.input.members);
        if (p === null) break;
        assert.equal(
          without.decide(p).verdict,
          c.after.decide(p).verdict,
          `${c.label}: ${rule.id} has no effect, but removing it changes ${show(p)}`,
        );
      }
    } else if (f.type === 'EmptyReference') {
      assert.equal(c.input.members(f.rules[0]!.peerGroup!.groupId).length, 0);
    }
  }
}

/**
 * Packets of every rule's match space: where a drop decides and an accept of its priority
 * matches too, that pair is a reported conflict.
 */
function checkConflictsComplete(c: Case): void {
  const rules = c.analysis.rules.map((r) => r.rule);
  const reported = new Set(
    c.analysis.findings
      .filter((f) => f.type === 'Conflict')
      .map((f) => `${f.rules[0]!.id} ${f.rules[1]!.id}`),
  );
  for (const r of rules) {
    for (let i = 0; i < 8; i++) {
      const p = packetFor(c.rng, r, c.input.members);
      if (p === null) break;
      const d = c.after.decide(p);
      if (d.rule?.policy !== 'drop') continue;
      for (const a of rules) {
        if (a.policy !== 'accept' || a.priority !== d.rule.priority) continue;
        if (a.direction !== p.direction) continue;
        if (!c.after.ref.matches(a, p)) continue;
        assert.ok(
          reported.has(`${d.rule.securityGroupRuleId} ${a.id}`),
          `${c.label}: ${show(p)} is dropped by ${d.rule.securityGroupRuleId} and matched by ${a.id} at equal priority: no Conflict`,
        );
      }
    }
  }
}

/** Random public peers (near the rules' CIDRs, members, anywhere) at listed ports. */
function checkExposureComplete(c: Case): number {
  if (c.input.directions?.includes('ingress') === false) return 0;
  const ports = c.input.exposurePorts!;
  const ingress = c.analysis.rules.map((r) => r.rule).filter((r) => r.direction === 'ingress');
  let accepted = 0;
  for (let i = 0; i < 150; i++) {
    const rng = c.rng;
    const r = ingress.length > 0 && rng.bool(0.8) ? rng.pick(ingress) : undefined;
    const peer =
      r?.peerCidr != null
        ? addrIn(rng, r.peerCidr)
        : r?.peerIpv6Cidr != null
          ? addrIn(rng, r.peerIpv6Cidr)
          : randomAddr(rng, rng.bool(0.3));
    if (!unicast(peer) || !isPublic(peer.family, peer.family === 4 ? peer.a : addrToBigInt(peer)))
      continue;
    const port = rng.pick(ports);
    const p: Packet = {
      interfaceId: PROBE,
      direction: 'ingress',
      protocol: rng.pick(['tcp', 'udp'] as const),
      localAddr:
        r?.localCidr != null
          ? addrIn(rng, r.localCidr)
          : r?.localIpv6Cidr != null
            ? addrIn(rng, r.localIpv6Cidr)
            : randomAddr(rng, rng.bool(0.2)),
      localPort: port,
      peerAddr: peer,
      peerPort: rng.int(0, 65535),
      nicType: r !== undefined && rng.bool(0.8) ? r.nicType : rng.pick(['intranet', 'internet']),
    };
    const d = c.after.decide(p);
    if (d.verdict !== 'accept') continue;
    accepted++;
    const f = c.analysis.findings.find((x) => x.type === 'Exposure' && x.port === port);
    assert.ok(
      f,
      `${c.label}: ${show(p)} is accepted (${decidedBy(d)}), but port ${port} is not reported`,
    );
    if (d.rule !== undefined) {
      assert.ok(
        f.rules.some((x) => x.id === d.rule!.securityGroupRuleId),
        `${c.label}: exposure of ${port} misses ${d.rule.securityGroupRuleId}`,
      );
    } else assert.ok(f.innerAccess, `${c.label}: exposure of ${port} misses inner access`);
  }
  return accepted;
}

function checkChanges(c: Case, counts: Map<string, number>): void {
  const whatIf = c.input.whatIf;
  if (whatIf === undefined) {
    assert.equal(c.analysis.changes.length, 0);
    return;
  }
  const key = (dir: string, b: Decision, a: Decision) => `${dir} ${decidedBy(b)} ${decidedBy(a)}`;
  const reported = new Set<string>();
  for (const ch of c.analysis.changes) {
    bump(counts, 'change');
    const b = c.oracle.witness(ch.witness);
    const a = c.after.witness(ch.witness);
    const at = `${c.label}: change ${show(ch.witness)}`;
    assert.equal(decidedBy(b), decidedBy(ch.before), `${at}: before`);
    assert.equal(decidedBy(a), decidedBy(ch.after), `${at}: after`);
    assert.equal(b.verdict, ch.before.verdict, at);
    assert.equal(a.verdict, ch.after.verdict, at);
    assert.notEqual(b.verdict, a.verdict, at);
    reported.add(key(ch.direction, b, a));
  }
  const touched = [...whatIf.add, ...c.subject.rules.filter((r) => whatIf.remove.has(r.id))].filter(
    (r) => c.input.directions?.includes(r.direction) !== false,
  );
  const samples: Packet[] = [];
  for (const r of touched) {
    for (let i = 0; i < 30; i++) {
      const p = packetFor(c.rng, r, c.input.members);
      if (p !== null) samples.push(p);
    }
  }
  for (const p of samples) {
    const b = c.oracle.decide(p);
    const a = c.after.decide(p);
    if (b.verdict === a.verdict) continue;
    assert.ok(
      reported.has(key(p.direction, b, a)),
      `${c.label}: ${show(p)} changes from ${decidedBy(b)} (${b.verdict}) to ${decidedBy(a)} (${a.verdict}), not reported; changes ${JSON.stringify(c.analysis.changes.map((x) => key(x.direction, x.before, x.after)))}`,
    );
  }
}

test(`the analyzer agrees with the reference (seed ${SEED}, ANALYZE_SEED to reproduce)`, () => {
  const counts = new Map<string, number>();
  let accepted = 0;
  for (let wi = 0; wi < WORLDS; wi++) {
    const c = build(wi);
    assert.equal(
      c.analysis.rules.length,
      c.subject.rules.filter((r) => c.input.directions?.includes(r.direction) !== false).length -
        [...(c.input.whatIf?.remove ?? [])].filter((id) =>
          c.subject.rules.some(
            (r) => r.id === id && c.input.directions?.includes(r.direction) !== false,
          ),
        ).length +
        (c.input.whatIf?.add.filter((r) => c.input.directions?.includes(r.direction) !== false)
          .length ?? 0),
      `${c.label}: one entry per rule`,
    );
    checkRules(c, counts);
    checkFindings(c, counts);
    checkConflictsComplete(c);
    accepted += checkExposureComplete(c);
    checkChanges(c, counts);
  }
  // The worlds must exercise every outcome.
  for (const k of [
    'reachable',
    'unreachable-Shadowed',
    'unreachable-Redundant',
    'Exposure',
    'Conflict',
    'Unreachable',
    'EmptyReference',
    'NoEffect',
    'change',
  ]) {
    assert.ok((counts.get(k) ?? 0) > 0, `no ${k} in ${WORLDS} worlds (seed ${SEED})`);
  }
  assert.ok(accepted > 0, 'no accepted public packet sampled');
  console.log(`seed ${SEED}, ${WORLDS} worlds:`, Object.fromEntries(counts), { accepted });
});
