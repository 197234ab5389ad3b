/**
 * Tracked connections through the conntrack tool: listed in its `save` format (each line a
 * set of conntrack options), deleted in one `conntrack -R -` run that reads `-D` lines.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';

/** A tracked flow, told by its original direction (who sent the first packet). */
export interface Flow {
  /** tcp, udp, icmp, gre, … as conntrack names it. */
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly sport?: number;
  readonly dport?: number;
  readonly icmp?: { readonly type: number; readonly code: number; readonly id: number };
  /** TCP's state (ESTABLISHED, TIME_WAIT, …). */
  readonly state?: string;
}

/** One line of `conntrack -L -o save`, or null for anything else. */
export function parseSaveLine(line: string): Flow | null {
  const t = line.trim().split(/\s+/);
  if (t[0] !== '-A') return null;
  const opt = new Map<string, string>();
  for (let i = 1; i < t.length - 1; i++) {
    if (t[i]!.startsWith('-') && !opt.has(t[i]!)) opt.set(t[i]!, t[i + 1]!);
  }
  const src = opt.get('-s');
  const dst = opt.get('-d');
  const proto = opt.get('-p');
  if (!src || !dst || !proto) return null;
  const n = (k: string) => (opt.has(k) ? Number(opt.get(k)) : undefined);
  const state = opt.get('--state');
  const flow: Flow = state === undefined ? { proto, src, dst } : { proto, src, dst, state };
  if (opt.has('--sport')) return { ...flow, sport: n('--sport'), dport: n('--dport') };
  if (opt.has('--icmp-type')) {
    return {
      ...flow,
      icmp: { type: n('--icmp-type')!, code: n('--icmp-code') ?? 0, id: n('--icmp-id') ?? 0 },
    };
  }
  return flow;
}

/** The `-D` line deleting exactly `f`'s entry. */
export function deleteLine(f: Flow): string {
  const parts = ['-D', '-s', f.src, '-d', f.dst, '-p', f.proto];
  if (f.sport !== undefined) parts.push('--sport', String(f.sport), '--dport', String(f.dport));
  if (f.icmp) {
    parts.push(
      '--icmp-type',
      String(f.icmp.type),
      '--icmp-code',
      String(f.icmp.code),
      '--icmp-id',
      String(f.icmp.id),
    );
  }
  return parts.join(' ');
}

export class Conntrack {
  constructor(readonly netns?: string) {}

  /** Every tracked IPv4 flow (the interfaces' addresses are IPv4). */
  async list(): Promise<Flow[]> {
    const r = await run(['conntrack', '-L', '-o', 'save', '-f', 'ipv4'], { netns: this.netns });
    return r.stdout.split('\n').flatMap((l) => parseSaveLine(l) ?? []);
  }

  /**
   * Deletes the flows' entries in one run; one already gone is no error. (conntrack opens
   * `-R -` as /dev/stdin, which a socket pipe cannot be: the lines go through a file, removed
   * from the directory before conntrack starts, so nothing is left behind however it ends.)
   */
  async remove(flows: readonly Flow[]): Promise<void> {
    if (flows.length === 0) return;
    const dir = mkdtempSync(join(tmpdir(), 'ecssg-conntrack-'));
    const file = join(dir, 'delete');
    let fd: number;
    try {
      writeFileSync(file, `${flows.map(deleteLine).join('\n')}\n`);
      fd = openSync(file, 'r');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    try {
      await run(['conntrack', '-R', '/dev/stdin'], {
        netns: this.netns,
        okCodes: [1],
        stdinFd: fd,
      });
    } finally {
      closeSync(fd);
    }
  }
}
