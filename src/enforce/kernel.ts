/**
 * The kernel's state of the agent's table, read from `nft -j list table` (libnftables JSON),
 * in the terms the diff needs: sets with their elements (but the content-named ones, whose
 * name says what they hold), maps with their verdicts, chains with the hash tags of their
 * rules. `expected()` gives the same for a ruleset, as the kernel holds it once applied.
 */
import { type Hook, isSealed, type Ruleset, ruleTag } from './ruleset.js';

export interface KernelSet {
  readonly type: string;
  readonly interval: boolean;
  readonly elements: ReadonlySet<string>;
}

export interface KernelMap {
  readonly type: string;
  readonly entries: ReadonlyMap<string, string>;
}

export interface KernelChain {
  readonly hook?: Hook;
  /** The tag comment of each rule in order ('' for a rule without one). */
  readonly tags: readonly string[];
}

export interface KernelState {
  readonly sets: ReadonlyMap<string, KernelSet>;
  readonly maps: ReadonlyMap<string, KernelMap>;
  readonly chains: ReadonlyMap<string, KernelChain>;
  /** The table holds objects the agent never makes (flowtables, counters, …). */
  readonly foreign: boolean;
}

export class KernelFormatError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const typeText = (t: unknown) => (Array.isArray(t) ? t.join(' . ') : String(t));

/**
 * A set element as the agent writes it: interface names quoted, addresses plain. (The sets
 * it diffs hold single values; anything else reads as something it never wrote.)
 */
function elementText(type: string, e: unknown): string {
  const v = typeof e === 'string' || typeof e === 'number' ? String(e) : JSON.stringify(e);
  return type === 'ifname' ? `"${v}"` : v;
}

/** A verdict as the agent writes it: `drop`, `accept`, `goto CHAIN`, `jump CHAIN`. */
export function verdictText(v: unknown): string {
  if (!isObj(v)) return JSON.stringify(v);
  for (const k of ['drop', 'accept', 'continue', 'return']) if (k in v) return k;
  for (const k of ['goto', 'jump']) {
    const t = v[k];
    if (isObj(t) && typeof t.target === 'string') return `${k} ${t.target}`;
  }
  return JSON.stringify(v);
}

function hookOf(c: Obj): Hook | undefined {
  if (typeof c.hook !== 'string') return undefined;
  return {
    hook: c.hook as Hook['hook'],
    priority: Number(c.prio),
    policy: c.policy === 'drop' ? 'drop' : 'accept',
  };
}

/** Parses `nft -j list table inet NAME`. */
export function parseTable(json: unknown, table: string): KernelState {
  if (!isObj(json) || !Array.isArray(json.nftables)) {
    throw new KernelFormatError('not an nftables JSON listing');
  }
  const sets = new Map<string, KernelSet>();
  const maps = new Map<string, KernelMap>();
  const chains = new Map<string, { hook?: Hook; tags: string[] }>();
  let foreign = false;
  const rules: Obj[] = [];
  for (const item of json.nftables) {
    if (!isObj(item)) continue;
    const [kind] = Object.keys(item);
    const body = item[kind!];
    if (!isObj(body) || kind === 'metainfo') continue;
    if (body.table !== undefined && body.table !== table) continue;
    if (kind === 'table') continue;
    const name = String(body.name ?? '');
    const elem = Array.isArray(body.elem) ? body.elem : [];
    if (kind === 'set') {
      const flags = Array.isArray(body.flags) ? body.flags : [];
      const type = typeText(body.type);
      sets.set(name, {
        type,
        interval: flags.includes('interval'),
        elements: new Set(isSealed(name) ? [] : elem.map((e) => elementText(type, e))),
      });
    } else if (kind === 'map') {
      const entries = new Map<string, string>();
      for (const e of elem) {
        if (Array.isArray(e) && e.length === 2) entries.set(String(e[0]), verdictText(e[1]));
      }
      maps.set(name, { type: typeText(body.type), entries });
    } else if (kind === 'chain') {
      chains.set(name, { hook: hookOf(body), tags: [] });
    } else if (kind === 'rule') {
      rules.push(body);
    } else {
      foreign = true;
    }
  }
  for (const r of rules) {
    const c = chains.get(String(r.chain));
    if (c) c.tags.push(typeof r.comment === 'string' ? r.comment : '');
  }
  return { sets, maps, chains, foreign };
}

/** What the kernel holds once `rs` is applied. */
export function expected(rs: Ruleset): KernelState {
  const sets = new Map<string, KernelSet>();
  for (const [name, s] of rs.sets) {
    sets.set(name, {
      type: s.type,
      interval: s.interval,
      elements: new Set(isSealed(name) ? [] : s.elements),
    });
  }
  const maps = new Map<string, KernelMap>();
  for (const [name, m] of rs.maps) maps.set(name, { type: m.type, entries: new Map(m.entries) });
  const chains = new Map<string, KernelChain>();
  for (const [name, c] of rs.chains) {
    chains.set(name, { hook: c.hook, tags: c.rules.map(ruleTag) });
  }
  return { sets, maps, chains, foreign: false };
}
