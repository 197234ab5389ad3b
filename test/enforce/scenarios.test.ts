/**
 * Real packets between lab namespaces for the seeds' scenarios: a TCP connect that sends data
 * and gets its echo, a UDP datagram and its echo, an ICMP echo — each passing or dropped in
 * the kernel exactly as CheckSecurityGroupTraffic says (both are asserted for every flow).
 */
import { after, before, describe, test } from 'node:test';
import type { RuleSpec } from './api.js';
import { noNamespaces, TestLab } from './lab.js';

const skip = noNamespaces();
if (skip) console.log(`# enforcement scenarios skipped: ${skip}`);

describe('scenarios in the kernel', { skip }, () => {
  let lab: TestLab;
  before(async () => {
    lab = await TestLab.start({ secondaries: [1, 0, 0, 0] });
  });
  after(() => lab?.stop());

  const A = () => lab.enis[0]!;
  const B = () => lab.enis[1]!;
  const C = () => lab.enis[2]!;

  /** Fresh groups (inner access Drop unless said), the interfaces put in them. */
  async function groups(n: number, opts: { inner?: 'Accept' | 'Drop'; type?: 'enterprise' } = {}) {
    const out: string[] = [];
    const o = opts.type === 'enterprise' ? opts : { inner: 'Drop' as const, ...opts };
    for (let i = 0; i < n; i++) out.push(await lab.api.group(lab.vpc, o));
    return out;
  }
  const member = (eni: { id: string }, ...groupIds: string[]) =>
    lab.api.setGroups(eni.id, groupIds);
  const rule = (g: string, spec: RuleSpec) => lab.api.allow(g, spec);
  const isolate = async () => {
    for (const e of lab.enis) await member(e, lab.base);
  };

  test('priority order: the smaller number decides, whatever the policy', async () => {
    await isolate();
    const [gb] = await groups(1);
    await member(B(), gb!);
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '22/22',
      peer: '10.0.1.0/24',
      policy: 'drop',
      priority: 2,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '22/22',
      peer: `${A().ip}/32`,
      priority: 1,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'udp',
      ports: '53/53',
      peer: '0.0.0.0/0',
      policy: 'drop',
      priority: 1,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'udp',
      ports: '53/53',
      peer: `${A().ip}/32`,
      priority: 2,
    });
    await rule(gb!, { direction: 'ingress', protocol: 'icmp', peer: '10.0.0.0/8', priority: 5 });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'tcp', port: 22 }, true],
      [{ from: C(), to: B(), proto: 'tcp', port: 22 }, false],
      [{ from: A(), to: B(), proto: 'udp', port: 53 }, false],
      [{ from: A(), to: B(), proto: 'icmp' }, true],
      [{ from: A(), to: B(), proto: 'tcp', port: 80 }, false],
    ]);
  });

  test('drop beats accept at equal priority', async () => {
    await isolate();
    const [gb] = await groups(1);
    await member(B(), gb!);
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '80/80',
      peer: `${A().ip}/32`,
      priority: 3,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '80/80',
      peer: '10.0.1.0/24',
      policy: 'drop',
      priority: 3,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '443/443',
      peer: `${A().ip}/32`,
      priority: 3,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'udp',
      ports: '5000/5000',
      peer: '10.0.1.0/24',
      priority: 1,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'udp',
      ports: '5000/5000',
      peer: `${A().ip}/32`,
      policy: 'drop',
      priority: 1,
    });
    await rule(gb!, { direction: 'ingress', protocol: 'icmp', peer: `${A().ip}/32`, priority: 4 });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'all',
      peer: '10.0.0.0/8',
      policy: 'drop',
      priority: 4,
    });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'tcp', port: 80 }, false],
      [{ from: A(), to: B(), proto: 'tcp', port: 443 }, true],
      [{ from: A(), to: B(), proto: 'udp', port: 5000 }, false],
      [{ from: C(), to: B(), proto: 'udp', port: 5000 }, true],
      [{ from: A(), to: B(), proto: 'icmp' }, false],
    ]);
  });

  test('group references both ways: any address of a member, the members changing in place', async () => {
    await isolate();
    const [ga, gb, gx] = await groups(3);
    await member(A(), ga!);
    await member(B(), gb!);
    await member(C(), gx!);
    // ingress at B from the members of ga; egress at A to the members of gb dropped for 80
    await rule(gb!, { direction: 'ingress', protocol: 'tcp', ports: '1/65535', peer: ga! });
    await rule(gb!, { direction: 'ingress', protocol: 'udp', ports: '53/53', peer: ga! });
    await rule(ga!, {
      direction: 'egress',
      protocol: 'tcp',
      ports: '80/80',
      peer: gb!,
      policy: 'drop',
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '80/80',
      peer: '10.0.1.0/24',
      priority: 2,
    });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'tcp', port: 22 }, true],
      [{ from: A(), to: B(), proto: 'tcp', port: 22, fromIp: A().secondary[0] }, true],
      [{ from: A(), to: B(), proto: 'udp', port: 53 }, true],
      [{ from: C(), to: B(), proto: 'tcp', port: 22 }, false],
      [{ from: A(), to: B(), proto: 'tcp', port: 80 }, false],
      [{ from: C(), to: B(), proto: 'tcp', port: 80 }, true],
    ]);
    // C joins ga: now a member, the group's set updated in place
    await member(C(), gx!, ga!);
    await lab.settle();
    await lab.expectFlows([
      [{ from: C(), to: B(), proto: 'tcp', port: 22 }, true],
      [{ from: C(), to: B(), proto: 'tcp', port: 80 }, false],
    ]);
    await member(C(), gx!);
    await lab.settle();
    await lab.expectFlows([[{ from: C(), to: B(), proto: 'tcp', port: 22 }, false]]);
  });

  test('egress rules apply at the sender', async () => {
    await isolate();
    const [ga, gb] = await groups(2);
    await member(A(), ga!);
    await member(B(), gb!);
    await member(C(), gb!);
    await rule(gb!, { direction: 'ingress', protocol: 'all', peer: '0.0.0.0/0' });
    await rule(ga!, {
      direction: 'egress',
      protocol: 'udp',
      ports: '53/53',
      peer: `${B().ip}/32`,
      policy: 'drop',
    });
    await rule(ga!, {
      direction: 'egress',
      protocol: 'icmp',
      peer: `${C().ip}/32`,
      policy: 'drop',
    });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'udp', port: 53 }, false],
      [{ from: A(), to: C(), proto: 'udp', port: 53 }, true],
      [{ from: A(), to: C(), proto: 'icmp' }, false],
      [{ from: A(), to: B(), proto: 'icmp' }, true],
      [{ from: A(), to: B(), proto: 'tcp', port: 443 }, true],
    ]);
  });

  test('inner access Accept: members reach each other before any rule; Drop: only rules open', async () => {
    await isolate();
    const [g] = await groups(1, { inner: 'Accept' });
    await member(A(), g!);
    await member(B(), g!);
    await rule(g!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '22/22',
      peer: '0.0.0.0/0',
      policy: 'drop',
      priority: 1,
    });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'tcp', port: 22 }, true],
      [{ from: B(), to: A(), proto: 'udp', port: 123 }, true],
      [{ from: B(), to: A(), proto: 'icmp', toIp: A().secondary[0] }, true],
      [{ from: C(), to: B(), proto: 'tcp', port: 22 }, false],
    ]);
    await lab.api.innerAccess(g!, 'Drop');
    await rule(g!, { direction: 'ingress', protocol: 'tcp', ports: '80/80', peer: `${A().ip}/32` });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'tcp', port: 22 }, false],
      [{ from: A(), to: B(), proto: 'tcp', port: 80 }, true],
      [{ from: B(), to: A(), proto: 'udp', port: 123 }, false],
      [{ from: B(), to: A(), proto: 'icmp' }, false],
    ]);
  });

  test('enterprise groups: egress drops by default, members do not reach each other', async () => {
    await isolate();
    const [e] = await groups(1, { type: 'enterprise' });
    const [open] = await groups(1);
    await member(A(), e!);
    await member(C(), e!);
    await member(B(), open!);
    await rule(open!, { direction: 'ingress', protocol: 'all', peer: '0.0.0.0/0' });
    await rule(e!, { direction: 'egress', protocol: 'tcp', ports: '22/22', peer: '10.0.1.0/24' });
    await rule(e!, { direction: 'ingress', protocol: 'tcp', ports: '22/22', peer: '10.0.1.0/24' });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'tcp', port: 22 }, true],
      [{ from: A(), to: B(), proto: 'tcp', port: 80 }, false],
      [{ from: A(), to: B(), proto: 'udp', port: 53 }, false],
      [{ from: A(), to: B(), proto: 'icmp' }, false],
      [{ from: A(), to: C(), proto: 'tcp', port: 22 }, true],
      [{ from: A(), to: C(), proto: 'tcp', port: 443 }, false],
      [{ from: B(), to: A(), proto: 'tcp', port: 80 }, false],
    ]);
  });

  test('established replies pass: the echo comes back while new flows the other way are dropped', async () => {
    await isolate();
    const [ga, gb] = await groups(2);
    await member(A(), ga!);
    await member(B(), gb!);
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'tcp',
      ports: '22/22',
      peer: `${A().ip}/32`,
    });
    await rule(gb!, {
      direction: 'ingress',
      protocol: 'udp',
      ports: '53/53',
      peer: `${A().ip}/32`,
    });
    await rule(gb!, { direction: 'ingress', protocol: 'icmp', peer: `${A().ip}/32` });
    // B may not send to A at all: its replies still pass
    await rule(gb!, { direction: 'egress', protocol: 'all', peer: `${A().ip}/32`, policy: 'drop' });
    await lab.settle();
    await lab.expectFlows([
      [{ from: A(), to: B(), proto: 'tcp', port: 22 }, true],
      [{ from: A(), to: B(), proto: 'udp', port: 53 }, true],
      [{ from: A(), to: B(), proto: 'icmp' }, true],
      [{ from: B(), to: A(), proto: 'tcp', port: 22 }, false],
      [{ from: B(), to: A(), proto: 'udp', port: 53 }, false],
      [{ from: B(), to: A(), proto: 'icmp' }, false],
    ]);
  });
});
