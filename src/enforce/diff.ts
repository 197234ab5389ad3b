/**
 * Desired state against kernel state: the commands of one `nft -f` transaction that turn the
 * kernel's table into the desired one, touching only what differs (none when in sync).
 *
 * In-place where nftables allows it: set elements (group members, interface addresses, bound
 * ports) and map entries are added and deleted one by one; a chain whose rules differ is
 * flushed and refilled; content-named sets come and go whole. Order inside the transaction:
 * new sets, maps and chains first (rules refer to them), element changes, chain contents,
 * map entries, then what is no longer wanted. A table whose shape the agent cannot diff (a
 * set or map of another type, a base chain on another hook, objects it never makes) is
 * deleted and made anew — in the same transaction, so no packet sees it missing.
 */
import type { KernelSet, KernelState } from './kernel.js';
import {
  type ChainDef,
  chainCommand,
  elementCommands,
  FAMILY,
  isSealed,
  mapCommand,
  mapElement,
  quote,
  type Ruleset,
  ruleCommand,
  ruleTag,
  script,
  setCommand,
} from './ruleset.js';

const sameHook = (a: ChainDef['hook'], b: ChainDef['hook']) =>
  a?.hook === b?.hook && a?.priority === b?.priority && a?.policy === b?.policy;

/** Whether the kernel's table can be brought to `rs` piece by piece. */
function diffable(k: KernelState, rs: Ruleset): boolean {
  if (k.foreign) return false;
  for (const [name, s] of rs.sets) {
    const ks = k.sets.get(name);
    if (ks && (ks.type !== s.type || ks.interval !== s.interval)) return false;
  }
  for (const [name, m] of rs.maps) {
    const km = k.maps.get(name);
    if (km && km.type !== m.type) return false;
  }
  for (const [name, c] of rs.chains) {
    const kc = k.chains.get(name);
    if (kc && !sameHook(kc.hook, c.hook)) return false;
  }
  // a name used for another kind of object
  for (const name of k.sets.keys()) if (rs.maps.has(name)) return false;
  for (const name of k.maps.keys()) if (rs.sets.has(name)) return false;
  return true;
}

function elementChanges(t: string, name: string, ks: KernelSet, want: readonly string[]) {
  const wanted = new Set(want);
  return [
    ...elementCommands(
      'delete',
      t,
      name,
      [...ks.elements].filter((e) => !wanted.has(e)),
    ),
    ...elementCommands(
      'add',
      t,
      name,
      want.filter((e) => !ks.elements.has(e)),
    ),
  ];
}

/**
 * Chains: a new one made (into `head`, before anything refers to it); one whose rule tags
 * differ from the desired rules' flushed and refilled (into `rules`).
 */
function chainChanges(kernel: KernelState, rs: Ruleset, head: string[], rules: string[]): void {
  const t = rs.table;
  for (const [name, c] of rs.chains) {
    const kc = kernel.chains.get(name);
    if (!kc) head.push(chainCommand(t, name, c));
    const tags = c.rules.map(ruleTag);
    if (kc && kc.tags.length === tags.length && kc.tags.every((x, i) => x === tags[i])) continue;
    if (kc) rules.push(`flush chain ${FAMILY} ${t} ${name}`);
    for (const r of c.rules) rules.push(ruleCommand(t, name, r));
  }
}

/** The transaction from `kernel` (null: no table) to `rs`; empty when they are equal. */
export function plan(kernel: KernelState | null, rs: Ruleset): string[] {
  const t = rs.table;
  if (kernel === null) return script(rs).trimEnd().split('\n');
  if (!diffable(kernel, rs)) {
    return [`delete table ${FAMILY} ${t}`, ...script(rs).trimEnd().split('\n')];
  }
  const head: string[] = [];
  const elements: string[] = [];
  const rules: string[] = [];
  const entries: string[] = [];
  const tail: string[] = [];

  for (const [name, s] of rs.sets) {
    const ks = kernel.sets.get(name);
    if (!ks) {
      head.push(setCommand(t, name, s), ...elementCommands('add', t, name, s.elements));
    } else if (!isSealed(name)) {
      elements.push(...elementChanges(t, name, ks, s.elements));
    }
  }
  for (const [name, m] of rs.maps) if (!kernel.maps.has(name)) head.push(mapCommand(t, name, m));
  chainChanges(kernel, rs, head, rules);
  for (const [name, m] of rs.maps) {
    const have = kernel.maps.get(name)?.entries ?? new Map<string, string>();
    const gone = [...have].filter(([k, v]) => m.entries.get(k) !== v).map(([k]) => quote(k));
    const added = [...m.entries]
      .filter(([k, v]) => have.get(k) !== v)
      .map(([k, v]) => mapElement(k, v));
    entries.push(
      ...elementCommands('delete', t, name, gone),
      ...elementCommands('add', t, name, added),
    );
  }
  // what is no longer wanted: chains emptied first (they may jump to each other), then gone
  const oldChains = [...kernel.chains.keys()].filter((n) => !rs.chains.has(n));
  for (const n of oldChains) tail.push(`flush chain ${FAMILY} ${t} ${n}`);
  for (const n of oldChains) tail.push(`delete chain ${FAMILY} ${t} ${n}`);
  for (const n of kernel.maps.keys())
    if (!rs.maps.has(n)) tail.push(`delete map ${FAMILY} ${t} ${n}`);
  for (const n of kernel.sets.keys())
    if (!rs.sets.has(n)) tail.push(`delete set ${FAMILY} ${t} ${n}`);
  return [...head, ...elements, ...rules, ...entries, ...tail];
}

/**
 * Fail closed, before anything is known: the skeleton of `rs` where the kernel lacks it, and
 * a `drop` entry for each port the kernel does not map yet. What the kernel enforces already
 * stays as it is (an agent that restarts keeps its rules in force until it has the new ones).
 */
export function planFailClosed(kernel: KernelState | null, rs: Ruleset): string[] {
  if (kernel === null || !diffable(kernel, rs)) return plan(kernel, rs);
  const t = rs.table;
  const head: string[] = [];
  const entries: string[] = [];
  const rules: string[] = [];
  for (const [name, s] of rs.sets) {
    const ks = kernel.sets.get(name);
    const missing = ks ? s.elements.filter((e) => !ks.elements.has(e)) : s.elements;
    if (!ks) head.push(setCommand(t, name, s));
    head.push(...elementCommands('add', t, name, missing));
  }
  for (const [name, m] of rs.maps) {
    const have = kernel.maps.get(name)?.entries;
    if (!have) head.push(mapCommand(t, name, m));
    const added = [...m.entries].filter(([k]) => !have?.has(k)).map(([k, v]) => mapElement(k, v));
    entries.push(...elementCommands('add', t, name, added));
  }
  chainChanges(kernel, rs, head, rules);
  return [...head, ...entries, ...rules];
}
