/**
 * The desired nftables table of a host: the bound interfaces' rules, compiled.
 *
 * One table per host, `inet ecssg` (or another name with that prefix):
 * - base chain `prerouting` (hook prerouting): replies of accepted flows pass
 *   (`ct state established,related accept`); a new flow from a port goes to that port's
 *   egress through the verdict map `egress_ports` (ifname → `goto eg_<eni>`);
 * - base chain `forward`: the same for the port a flow goes out of, through `ingress_ports`
 *   (ifname → `goto pi_<profile>`). Both hooks accept only what both ends accept: egress at
 *   the sender, ingress at the receiver;
 * - base chain `input`: a port never reaches the host itself;
 * - a bound port whose interface is not known (yet) maps to `drop` in both maps: fail closed.
 *   In strict mode (the lab, whose host holds nothing but ports) any other port drops too;
 * - `eg_<eni>`: the port sends from its own addresses only (set `a_<eni>`), then its profile;
 * - a profile is the set of groups of an interface; interfaces with the same groups share
 *   its chains `pi_<p>` (ingress) and `pe_<p>` (egress): inner access first (`@g_<group>` of
 *   each normal group with InnerAccessPolicy Accept), then the rules' layers (layers.ts), each
 *   a few lookups in interval sets of concatenations (`l_<hash>`, named after their content),
 *   then the default (ingress drop; egress accept, or drop with an enterprise group);
 * - `g_<group>`: the member addresses (primary and secondary) of a group the rules or inner
 *   access name, shared by every profile and updated in place when members change.
 *
 * Per packet that is a map lookup, the address check, up to five inner-access lookups and a
 * few set lookups per layer: the cost follows the number of layers, not of rules.
 * Only intranet rules apply: a port carries an interface's private traffic.
 */
import type { Policy, Rule, SecurityGroup } from '../domain/types.js';
import { interfaceAddresses } from '../domain/types.js';
import { Addr, bigIntToWords, formatAddr } from '../engine/address.js';
import type { FeedState } from '../feed/state.js';
import { type Box, disjointSets, type Num, type Span } from './boxes.js';
import { type Layer, layer } from './layers.js';
import {
  type ChainDef,
  contentName,
  type MapDef,
  quote,
  type Ruleset,
  SEALED_PREFIX,
  type SetDef,
} from './ruleset.js';

export interface Binding {
  readonly eniId: string;
  /** The host-side device of the interface's port. */
  readonly ifname: string;
}

export interface CompileOptions {
  readonly table: string;
  /** Every port of the host is bound: unknown ones drop (the lab). */
  readonly strict: boolean;
}

/** What became of each binding. */
export interface PortPlan {
  readonly eniId: string;
  readonly ifname: string;
  /** `enforcing` its rules, or `unknown` to the feed (its port drops every new flow). */
  readonly state: 'enforcing' | 'unknown';
  /** Its private addresses, the primary first. */
  readonly addresses: readonly string[];
  /** Rule layers of ingress and egress (per-packet cost). */
  readonly layers?: { readonly ingress: number; readonly egress: number };
}

export interface Compiled {
  readonly ruleset: Ruleset;
  readonly ports: readonly PortPlan[];
}

export const EGRESS_MAP = 'egress_ports';
export const INGRESS_MAP = 'ingress_ports';
export const PORTS_SET = 'ports';
const ESTABLISHED = 'ct state established,related accept';

/** Base chains and the set of bound ports: what exists before anything is known. */
function skeleton(
  opts: CompileOptions,
  bindings: readonly Binding[],
): { chains: Map<string, ChainDef>; sets: Map<string, SetDef> } {
  const strict = opts.strict;
  const chains = new Map<string, ChainDef>([
    [
      'prerouting',
      {
        hook: { hook: 'prerouting', priority: 0, policy: 'accept' },
        rules: [
          ESTABLISHED,
          `iifname vmap @${EGRESS_MAP}`,
          ...(strict ? [`iifname != ${quote('lo')} drop`] : []),
        ],
      },
    ],
    [
      'forward',
      {
        hook: { hook: 'forward', priority: 0, policy: 'accept' },
        rules: [ESTABLISHED, `oifname vmap @${INGRESS_MAP}`, ...(strict ? ['drop'] : [])],
      },
    ],
    [
      'input',
      {
        hook: { hook: 'input', priority: 0, policy: 'accept' },
        rules: [strict ? `iifname != ${quote('lo')} drop` : `iifname @${PORTS_SET} drop`],
      },
    ],
  ]);
  const names = [...new Set(bindings.map((b) => b.ifname))].sort();
  return {
    chains,
    sets: new Map([[PORTS_SET, { type: 'ifname', interval: false, elements: names.map(quote) }]]),
  };
}

/** The table before anything is known: every bound port drops new flows (fail closed). */
export function failClosed(opts: CompileOptions, bindings: readonly Binding[]): Ruleset {
  const base = skeleton(opts, bindings);
  const drops = new Map(bindings.map((b) => [b.ifname, 'drop']));
  return {
    table: opts.table,
    sets: base.sets,
    chains: base.chains,
    maps: new Map([
      [EGRESS_MAP, { type: 'ifname', entries: drops }],
      [INGRESS_MAP, { type: 'ifname', entries: drops }],
    ]),
  };
}

// ------------------------------------------------------------------------------ elements

function formatNum(family: 4 | 6, v: Num): string {
  if (family === 4) return formatAddr(new Addr(4, Number(v) >>> 0, 0, 0, 0));
  const [a, b, c, d] = bigIntToWords(BigInt(v));
  return formatAddr(new Addr(6, a, b, c, d));
}

/** An address span as a prefix when it is one, else as a range. */
function addressText(family: 4 | 6, s: Span): string {
  const bits = family === 4 ? 32 : 128;
  const lo = BigInt(s[0]);
  const size = BigInt(s[1]) - lo + 1n;
  if ((size & (size - 1n)) === 0n && lo % size === 0n) {
    const len = bits - (size.toString(2).length - 1);
    return `${formatNum(family, s[0])}/${len}`;
  }
  return `${formatNum(family, s[0])}-${formatNum(family, s[1])}`;
}

const numText = (s: Span) => (s[0] === s[1] ? `${s[0]}` : `${s[0]}-${s[1]}`);

function elementText(b: Box): string {
  const parts = [numText(b.proto)];
  if (b.peer !== null) parts.push(addressText(b.family, b.peer));
  if (b.ports) parts.push(numText(b.dport), numText(b.sport));
  parts.push(addressText(b.family, b.local));
  return parts.join(' . ');
}

function setType(sample: Box): string {
  const addr = sample.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const parts = ['inet_proto'];
  if (sample.peer !== null) parts.push(addr);
  if (sample.ports) parts.push('inet_service', 'inet_service');
  parts.push(addr);
  return parts.join(' . ');
}

// ------------------------------------------------------------------------------ chains

type Direction = 'ingress' | 'egress';

interface Emit {
  readonly sets: Map<string, SetDef>;
  /** Groups whose member set the chains use. */
  readonly groups: Set<string>;
}

/** The statements of the layers of one direction; their sets go into `out`. */
function layerRules(layers: readonly Layer[], dir: Direction, out: Emit): string[] {
  const rules: string[] = [];
  for (const l of layers) {
    const byKind = new Map<string, Box[]>();
    for (const b of l.boxes) {
      const k = `${b.family}|${b.ports}|${b.group ?? ''}`;
      const list = byKind.get(k);
      if (list) list.push(b);
      else byKind.set(k, [b]);
    }
    for (const k of [...byKind.keys()].sort()) {
      for (const bin of disjointSets(byKind.get(k)!)) {
        const sample = bin[0]!;
        const elements = bin.map(elementText).sort();
        const type = setType(sample);
        const name = contentName(SEALED_PREFIX, type, ...elements);
        out.sets.set(name, { type, interval: true, elements });
        rules.push(lookup(sample, dir, `@${name}`, l.policy, out));
      }
    }
  }
  return rules;
}

function lookup(sample: Box, dir: Direction, set: string, policy: Policy, out: Emit): string {
  const ip = sample.family === 4 ? 'ip' : 'ip6';
  const peer = `${ip} ${dir === 'ingress' ? 'saddr' : 'daddr'}`;
  const local = `${ip} ${dir === 'ingress' ? 'daddr' : 'saddr'}`;
  const key = ['meta l4proto'];
  if (sample.peer !== null) key.push(peer);
  if (sample.ports) key.push('th dport', 'th sport');
  key.push(local);
  const guard = sample.group !== null ? `${peer} @${groupSet(sample.group, out)} ` : '';
  return `${guard}${key.join(' . ')} ${set} ${policy}`;
}

function groupSet(groupId: string, out: Emit): string {
  out.groups.add(groupId);
  return `g_${groupId}`;
}

interface Profile {
  readonly name: string;
  readonly layers: { ingress: number; egress: number };
}

/** The two chains of a set of groups. */
function profileChains(
  groupIds: readonly string[],
  groups: ReadonlyMap<string, SecurityGroup>,
  rulesOf: (groupId: string) => readonly Rule[],
  chains: Map<string, ChainDef>,
  out: Emit,
): Profile {
  const name = contentName('', ...groupIds).slice(0, 12);
  const known = groupIds.flatMap((id) => groups.get(id) ?? []);
  const rules = groupIds.flatMap(rulesOf).filter((r) => r.nicType === 'intranet');
  const enterprise = known.some((g) => g.type === 'enterprise');
  const inner = known
    .filter((g) => g.type === 'normal' && g.innerAccessPolicy === 'Accept')
    .map((g) => g.id);
  const egressDefault: Policy = enterprise ? 'drop' : 'accept';
  const ingress = layer(
    rules.filter((r) => r.direction === 'ingress'),
    'drop',
  );
  const egress = layer(
    rules.filter((r) => r.direction === 'egress'),
    egressDefault,
  );
  chains.set(`pi_${name}`, {
    rules: [
      ...inner.map((g) => `ip saddr @${groupSet(g, out)} accept`),
      ...layerRules(ingress, 'ingress', out),
      'drop',
    ],
  });
  chains.set(`pe_${name}`, {
    rules: [
      ...inner.map((g) => `ip daddr @${groupSet(g, out)} accept`),
      ...layerRules(egress, 'egress', out),
      egressDefault,
    ],
  });
  return { name, layers: { ingress: ingress.length, egress: egress.length } };
}

/** The desired table for `bindings`, from the feed's state. */
export function compile(
  state: FeedState,
  bindings: readonly Binding[],
  opts: CompileOptions,
): Compiled {
  const base = skeleton(opts, bindings);
  const chains = base.chains;
  const out: Emit = { sets: base.sets, groups: new Set() };
  const egressMap = new Map<string, string>();
  const ingressMap = new Map<string, string>();
  const rulesByGroup = new Map<string, Rule[]>();
  for (const r of state.rules.values()) {
    const list = rulesByGroup.get(r.securityGroupId);
    if (list) list.push(r);
    else rulesByGroup.set(r.securityGroupId, [r]);
  }
  const rulesOf = (g: string) => rulesByGroup.get(g) ?? [];
  const profiles = new Map<string, Profile>();
  const ports: PortPlan[] = [];
  for (const b of bindings) {
    const eni = state.interfaces.get(b.eniId);
    if (eni === undefined) {
      egressMap.set(b.ifname, 'drop');
      ingressMap.set(b.ifname, 'drop');
      ports.push({ eniId: b.eniId, ifname: b.ifname, state: 'unknown', addresses: [] });
      continue;
    }
    const groupIds = [...new Set(eni.securityGroupIds)].sort();
    const key = groupIds.join(',');
    let p = profiles.get(key);
    if (p === undefined) {
      p = profileChains(groupIds, state.groups, rulesOf, chains, out);
      profiles.set(key, p);
    }
    const addresses = [...new Set(interfaceAddresses(eni))];
    out.sets.set(`a_${eni.id}`, {
      type: 'ipv4_addr',
      interval: false,
      elements: [...addresses].sort(),
    });
    chains.set(`eg_${eni.id}`, {
      rules: [`ip saddr != @a_${eni.id} drop`, 'meta nfproto ipv6 drop', `goto pe_${p.name}`],
    });
    egressMap.set(b.ifname, `goto eg_${eni.id}`);
    ingressMap.set(b.ifname, `goto pi_${p.name}`);
    ports.push({
      eniId: b.eniId,
      ifname: b.ifname,
      state: 'enforcing',
      addresses,
      layers: p.layers,
    });
  }
  for (const g of [...out.groups].sort()) {
    out.sets.set(`g_${g}`, {
      type: 'ipv4_addr',
      interval: false,
      elements: membersOf(state, g),
    });
  }
  const maps = new Map<string, MapDef>([
    [EGRESS_MAP, { type: 'ifname', entries: egressMap }],
    [INGRESS_MAP, { type: 'ifname', entries: ingressMap }],
  ]);
  return { ruleset: { table: opts.table, sets: out.sets, maps, chains }, ports };
}

/** Every private address of the group's members: the account's interfaces, and the peers. */
export function membersOf(state: FeedState, groupId: string): string[] {
  const addrs = new Set<string>(state.peers.get(groupId)?.addresses ?? []);
  for (const e of state.interfaces.values()) {
    if (e.securityGroupIds.includes(groupId)) for (const a of interfaceAddresses(e)) addrs.add(a);
  }
  return [...addrs].filter((a) => !a.includes(':')).sort();
}
