/**
 * The lab's plumbing: for every interface of the VPC a network namespace named after it,
 * holding its addresses on `eth0` (each a /32, the primary one the source of the default
 * route via GATEWAY), the other end of the veth pair in the lab's host namespace with a /32
 * route per address: the host routes between ports (and answers ARP for the gateway, an
 * address of its own). What it made is recorded (before it is made) in DIR/plumbed.json, so
 * `lab down` removes exactly that, even after a crash.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plumber } from '../enforce/agent.js';
import type { PortPlan } from '../enforce/compile.js';
import { NETNS_DIR, run } from '../enforce/exec.js';
import type { Logger } from '../log.js';
import { GATEWAY } from './names.js';

interface Plugged {
  readonly ifname: string;
  readonly addresses: readonly string[];
}

const ip = (netns: string, commands: readonly string[]) =>
  commands.length === 0
    ? Promise.resolve()
    : run(['ip', '-n', netns, '-batch', '-'], { input: `${commands.join('\n')}\n` }).then(() => {});

const sysctl = (netns: string, ...settings: string[]) =>
  run(['sysctl', '-q', '-w', ...settings], { netns }).then(() => {});

export const netnsExists = (name: string) => existsSync(join(NETNS_DIR, name));

/** Makes the lab's host namespace (idempotent). */
export async function makeHost(host: string): Promise<void> {
  if (!netnsExists(host)) await run(['ip', 'netns', 'add', host]);
  await sysctl(host, 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.disable_ipv6=1');
  await ip(host, ['link set lo up']);
  await run(['ip', '-n', host, 'addr', 'replace', `${GATEWAY}/32`, 'dev', 'lo']);
}

/** Deletes a namespace (and so every link and table in it); absent already is fine. */
export async function removeNetns(name: string): Promise<void> {
  if (netnsExists(name)) await run(['ip', 'netns', 'del', name]);
}

export class LabPlumber implements Plumber {
  private readonly plugged: Map<string, Plugged>;
  private readonly file: string;

  constructor(
    private readonly host: string,
    dir: string,
    private readonly log: Logger,
  ) {
    this.file = join(dir, 'plumbed.json');
    this.plugged = new Map(existsSync(this.file) ? Object.entries(readPlumbed(this.file)) : []);
  }

  /** Unplugs interfaces no longer in the VPC; drops addresses they no longer hold. */
  async before(ports: readonly PortPlan[]): Promise<void> {
    const wanted = new Map(ports.filter((p) => p.state === 'enforcing').map((p) => [p.eniId, p]));
    for (const [eniId, p] of this.plugged) {
      const want = wanted.get(eniId);
      if (!want) {
        await removeNetns(eniId);
        this.plugged.delete(eniId);
        this.save();
        this.log.info(`lab: unplugged ${eniId}`);
        continue;
      }
      const gone = p.addresses.filter((a) => !want.addresses.includes(a));
      if (gone.length === 0) continue;
      await ip(
        eniId,
        gone.map((a) => `addr del ${a}/32 dev eth0`),
      );
      await ip(
        this.host,
        gone.map((a) => `route del ${a}/32 dev ${p.ifname}`),
      );
      this.plugged.set(eniId, { ...p, addresses: p.addresses.filter((a) => !gone.includes(a)) });
      this.save();
    }
  }

  /** Plugs new interfaces; adds the addresses they newly hold. */
  async after(ports: readonly PortPlan[]): Promise<void> {
    for (const port of ports) {
      if (port.state !== 'enforcing') continue;
      const p = this.plugged.get(port.eniId);
      if (!p) {
        await this.plug(port);
        continue;
      }
      const added = port.addresses.filter((a) => !p.addresses.includes(a));
      if (added.length === 0) continue;
      await ip(
        port.eniId,
        added.map((a) => `addr add ${a}/32 dev eth0`),
      );
      await ip(
        this.host,
        added.map((a) => `route replace ${a}/32 dev ${p.ifname}`),
      );
      this.plugged.set(port.eniId, { ...p, addresses: [...p.addresses, ...added] });
      this.save();
    }
  }

  private async plug(port: PortPlan): Promise<void> {
    const ns = port.eniId;
    if (netnsExists(ns)) throw new Error(`a network namespace ${ns} exists already, not the lab's`);
    // recorded first: a crash from here on leaves something lab down knows to remove
    this.plugged.set(ns, { ifname: port.ifname, addresses: [] });
    this.save();
    await run(['ip', 'netns', 'add', ns]);
    await sysctl(ns, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    await run([
      'ip',
      '-n',
      this.host,
      'link',
      'add',
      port.ifname,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      ns,
    ]);
    await sysctl(this.host, `net.ipv6.conf.${port.ifname}.disable_ipv6=1`);
    const primary = port.addresses[0]!;
    await ip(ns, [
      'link set lo up',
      'link set eth0 up',
      ...port.addresses.map((a) => `addr add ${a}/32 dev eth0`),
      `route add ${GATEWAY} dev eth0 scope link`,
      `route add default via ${GATEWAY} dev eth0 src ${primary}`,
    ]);
    await ip(this.host, [
      `link set ${port.ifname} up`,
      ...port.addresses.map((a) => `route replace ${a}/32 dev ${port.ifname}`),
    ]);
    this.plugged.set(ns, { ifname: port.ifname, addresses: [...port.addresses] });
    this.save();
    this.log.info(`lab: plugged ${ns} (${port.addresses.join(', ')}) into ${port.ifname}`);
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.plugged), null, 1));
    renameSync(tmp, this.file);
  }
}

export function readPlumbed(file: string): Record<string, Plugged> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Plugged>;
}
