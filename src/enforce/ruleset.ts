/**
 * An nftables table as the agent means it: named sets, verdict maps and chains of one table
 * of the inet family. The same shape describes the desired state (compiled) and, read back,
 * the kernel's (see kernel.ts); the difference becomes one `nft -f` transaction (diff.ts).
 *
 * Every rule the agent writes carries a comment with a hash of its text (Calico Felix does
 * the same with iptables): reading a chain back, its list of hashes says whether it holds
 * exactly the desired rules, without parsing nftables' rendering of them.
 */
import { createHash } from 'node:crypto';

/** Tables this product owns are named with this prefix; it never touches any other. */
export const TABLE_PREFIX = 'ecssg';
export const FAMILY = 'inet';

export interface SetDef {
  /** `ipv4_addr`, or a concatenation `inet_proto . ipv4_addr . …`. */
  readonly type: string;
  readonly interval: boolean;
  readonly elements: readonly string[];
}

/**
 * Sets named with this prefix are named after their content (type and elements): a change
 * makes another set, so their elements are never read back nor diffed.
 */
export const SEALED_PREFIX = 'l_';
export const isSealed = (name: string) => name.startsWith(SEALED_PREFIX);

export interface MapDef {
  /** The key type (`ifname`); values are verdicts. */
  readonly type: string;
  /** Key → verdict (`drop`, `accept`, `goto CHAIN`). */
  readonly entries: ReadonlyMap<string, string>;
}

export interface Hook {
  readonly hook: 'prerouting' | 'forward' | 'input';
  readonly priority: number;
  readonly policy: 'accept' | 'drop';
}

export interface ChainDef {
  /** Set for a base chain. */
  readonly hook?: Hook;
  /** Rule texts without their comment. */
  readonly rules: readonly string[];
}

export interface Ruleset {
  readonly table: string;
  readonly sets: ReadonlyMap<string, SetDef>;
  readonly maps: ReadonlyMap<string, MapDef>;
  readonly chains: ReadonlyMap<string, ChainDef>;
}

const TAG = 'ecssg:';

/** The comment a rule is written with. */
export function ruleTag(text: string): string {
  return TAG + createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/** A short stable name for some content (sets named after their elements, profiles). */
export function contentName(prefix: string, ...parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\n');
  return prefix + h.digest('hex').slice(0, 16);
}

export const quote = (s: string) => `"${s}"`;

export function tableRef(rs: { table: string }): string {
  return `${FAMILY} ${rs.table}`;
}

export function setCommand(table: string, name: string, s: SetDef): string {
  const flags = s.interval ? ' flags interval;' : '';
  return `add set ${FAMILY} ${table} ${name} { type ${s.type};${flags} }`;
}

export function mapCommand(table: string, name: string, m: MapDef): string {
  return `add map ${FAMILY} ${table} ${name} { type ${m.type} : verdict; }`;
}

export function chainCommand(table: string, name: string, c: ChainDef): string {
  if (!c.hook) return `add chain ${FAMILY} ${table} ${name}`;
  const h = c.hook;
  return `add chain ${FAMILY} ${table} ${name} { type filter hook ${h.hook} priority ${h.priority}; policy ${h.policy}; }`;
}

export function ruleCommand(table: string, chain: string, text: string): string {
  return `add rule ${FAMILY} ${table} ${chain} ${text} comment ${quote(ruleTag(text))}`;
}

/** Adds elements, a bounded number per command (very long lines are slow to parse). */
export function elementCommands(
  verb: 'add' | 'delete',
  table: string,
  name: string,
  elements: readonly string[],
): string[] {
  const out: string[] = [];
  for (let i = 0; i < elements.length; i += 512) {
    out.push(
      `${verb} element ${FAMILY} ${table} ${name} { ${elements.slice(i, i + 512).join(', ')} }`,
    );
  }
  return out;
}

export function mapElement(key: string, verdict: string): string {
  return `${quote(key)} : ${verdict}`;
}

/** The whole table as `nft -f` input, made from nothing (what `--dry-run` prints). */
export function script(rs: Ruleset): string {
  const t = rs.table;
  const lines = [`add table ${FAMILY} ${t}`];
  for (const [name, s] of rs.sets) {
    lines.push(setCommand(t, name, s), ...elementCommands('add', t, name, s.elements));
  }
  for (const [name, c] of rs.chains) lines.push(chainCommand(t, name, c));
  for (const [name, m] of rs.maps) {
    lines.push(mapCommand(t, name, m));
    const entries = [...m.entries].map(([k, v]) => mapElement(k, v));
    lines.push(...elementCommands('add', t, name, entries));
  }
  for (const [name, c] of rs.chains) for (const r of c.rules) lines.push(ruleCommand(t, name, r));
  return `${lines.join('\n')}\n`;
}
