/**
 * The lab: a VPC's interfaces as network namespaces on this machine, their rules enforced by
 * an agent in the background, so that what CheckSecurityGroupTraffic says can be watched
 * happening to real packets.
 *
 * `up` makes the host namespace, starts the agent detached (its output in DIR/agent.log) and
 * returns once the agent's first sync is done: every interface plugged, its rules in force.
 * `down` stops the agent and removes every namespace the lab made (and with the host
 * namespace its links and its nftables table). Nothing is made outside these namespaces.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { callRpc } from '../client.js';
import type { ConnectionSettings } from '../connection.js';
import type { AgentStatus } from '../enforce/agent.js';
import { run } from '../enforce/exec.js';
import { sleep } from '../enforce/feed-client.js';
import { hostNetns, LAB_ROOT, type LabConfig, labDir, VALID_VPC_ID } from './names.js';
import { makeHost, netnsExists, readPlumbed, removeNetns } from './plumb.js';

export class LabError extends Error {}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new LabError(
      'the lab needs root: it makes network namespaces (ip netns) and nftables tables in them ' +
        "(without root: run the server and the lab inside `unshare -rnm bash` after 'mount -t tmpfs tmpfs /run')",
    );
  }
}

function checkVpcId(vpcId: string | undefined): string {
  if (!vpcId || !VALID_VPC_ID.test(vpcId)) throw new LabError('give --vpc vpc-…');
  return vpcId;
}

const readJson = <T>(file: string): T | undefined =>
  existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;

export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `pid` is the agent of the lab in `dir` (not a process that reused its id). */
function isLabAgent(pid: number, dir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('agent') && argv.includes(dir);
  } catch {
    return false;
  }
}

export interface UpOptions {
  readonly vpcId: string | undefined;
  readonly conn: ConnectionSettings;
  /** The command line's script, to start the agent with. */
  readonly cli: string;
  readonly timeoutMs?: number;
}

/** `lab up`: resolves with the agent's status once it enforces the current rules. */
export async function labUp(o: UpOptions): Promise<AgentStatus> {
  requireRoot();
  const vpcId = checkVpcId(o.vpcId);
  await checkTools();
  const conn = o.conn;
  // the VPC must be the caller's (errors of the API as they come)
  await callRpc(
    {
      ...conn,
      version: '2016-04-28',
    },
    'DescribeVpcAttribute',
    { RegionId: conn.regionId, VpcId: vpcId },
  );
  const dir = labDir(vpcId);
  const configFile = join(dir, 'lab.json');
  const running = readJson<LabConfig>(configFile);
  if (
    running?.agentPid !== undefined &&
    alive(running.agentPid) &&
    isLabAgent(running.agentPid, dir)
  ) {
    return waitSynced(dir, running.agentPid, o.timeoutMs);
  }
  mkdirSync(dir, { recursive: true });
  rmSync(join(dir, 'status.json'), { force: true });
  const config: LabConfig = {
    vpcId,
    hostNetns: hostNetns(vpcId),
    endpoint: conn.endpoint,
    regionId: conn.regionId,
    accessKeyId: conn.accessKeyId,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(configFile, JSON.stringify(config, null, 1));
  await makeHost(config.hostNetns);
  const logFd = openSync(join(dir, 'agent.log'), 'a');
  const child = spawn(process.execPath, [o.cli, 'agent', '--lab', dir], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: {
      ...process.env,
      ECS_SECGROUP_ENDPOINT: conn.endpoint,
      ALIBABA_CLOUD_ACCESS_KEY_ID: conn.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: conn.accessKeySecret,
    },
  });
  child.unref();
  const pid = child.pid!;
  writeFileSync(configFile, JSON.stringify({ ...config, agentPid: pid }, null, 1));
  return waitSynced(dir, pid, o.timeoutMs);
}

async function waitSynced(dir: string, pid: number, timeoutMs = 30_000): Promise<AgentStatus> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = readJson<AgentStatus>(join(dir, 'status.json'));
    if (s?.synced && s.pid === pid) return s;
    if (!alive(pid)) throw new LabError(`the lab's agent exited:\n${tail(join(dir, 'agent.log'))}`);
    if (Date.now() > end) {
      throw new LabError(
        `the lab's agent has not synced after ${timeoutMs} ms${s?.lastError ? ` (${s.lastError})` : ''}; see ${join(dir, 'agent.log')}`,
      );
    }
    await sleep(25);
  }
}

function tail(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/** `lab down`: stops the agent, removes every namespace the lab made and its state. */
export async function labDown(vpcIdArg: string | undefined): Promise<string[]> {
  requireRoot();
  const vpcId = checkVpcId(vpcIdArg);
  const dir = labDir(vpcId);
  const config = readJson<LabConfig>(join(dir, 'lab.json'));
  const pid = config?.agentPid;
  if (pid !== undefined && alive(pid) && isLabAgent(pid, dir)) {
    process.kill(pid, 'SIGTERM');
    const end = Date.now() + 5000;
    while (alive(pid) && Date.now() < end) await sleep(20);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(20);
  }
  const removed: string[] = [];
  const plumbed = join(dir, 'plumbed.json');
  for (const ns of existsSync(plumbed) ? Object.keys(readPlumbed(plumbed)) : []) {
    if (netnsExists(ns)) removed.push(ns);
    await removeNetns(ns);
  }
  const host = config?.hostNetns ?? hostNetns(vpcId);
  if (netnsExists(host)) removed.push(host);
  await removeNetns(host);
  rmSync(dir, { recursive: true, force: true });
  return removed;
}

export interface LabView {
  readonly dir: string;
  readonly config?: LabConfig;
  readonly agentRunning: boolean;
  readonly status?: AgentStatus;
}

/** `lab status`: every lab on this machine (or the one of `vpcId`). */
export function labStatus(vpcId?: string): LabView[] {
  const ids =
    vpcId !== undefined ? [checkVpcId(vpcId)] : existsSync(LAB_ROOT) ? readdirSync(LAB_ROOT) : [];
  return ids
    .map((id) => labDir(id))
    .filter((dir) => existsSync(join(dir, 'lab.json')))
    .map((dir) => {
      const config = readJson<LabConfig>(join(dir, 'lab.json'));
      const pid = config?.agentPid;
      return {
        dir,
        config,
        agentRunning: pid !== undefined && alive(pid) && isLabAgent(pid, dir),
        status: readJson<AgentStatus>(join(dir, 'status.json')),
      };
    });
}

export function formatStatus(views: readonly LabView[]): string {
  if (views.length === 0) return 'no lab on this machine\n';
  let out = '';
  for (const v of views) {
    const s = v.status;
    out += `lab ${v.config?.vpcId} (host namespace ${v.config?.hostNetns}): agent ${v.config?.agentPid ?? '-'} ${v.agentRunning ? 'running' : 'NOT RUNNING'}\n`;
    out += `  applied cursor ${s?.appliedCursor ?? '-'} (latest ${s?.cursor ?? '-'}), connections checked at ${s?.cleanedCursor ?? '-'}, ${s?.synced ? 'in sync' : 'not synced yet'}, ${s?.transactions ?? 0} transactions, ${s?.flowsDeleted ?? 0} connections cut\n`;
    out += `  last error: ${s?.lastError ? `${s.lastError} (${s.lastErrorAt})` : 'none'}\n`;
    for (const p of s?.ports ?? []) {
      const layers = p.layers ? `, rule layers in ${p.layers.ingress} out ${p.layers.egress}` : '';
      out += `  ${p.eniId}  port ${p.ifname}  ${p.addresses.join(', ') || '-'}  ${p.state}${layers}\n`;
    }
  }
  return out;
}

/** `lab exec`: runs a command in an interface's namespace; resolves to its exit code. */
export async function labExec(eniId: string | undefined, argv: readonly string[]): Promise<number> {
  requireRoot();
  if (!eniId || !/^eni-[0-9a-z]+$/.test(eniId))
    throw new LabError('give the interface: lab exec eni-… -- CMD …');
  if (argv.length === 0) throw new LabError('give a command: lab exec eni-… -- CMD …');
  const ours = labStatus().some((v) => v.status?.ports.some((p) => p.eniId === eniId));
  if (!ours || !netnsExists(eniId))
    throw new LabError(`${eniId} is not an interface of a lab on this machine`);
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', eniId, ...argv], { stdio: 'inherit' });
    // `ip netns exec` execs the command: signals to us go to it
    const forward = (sig: NodeJS.Signals) => child.kill(sig);
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, forward);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(sig, forward);
      resolve(code ?? 128 + (signal ? osSignal(signal) : 1));
    });
  });
}

/** Tools the lab and its agent drive. */
export async function checkTools(): Promise<void> {
  for (const tool of ['ip', 'nft', 'conntrack', 'nsenter', 'sysctl']) {
    try {
      await run(['sh', '-c', `command -v ${tool}`]);
    } catch {
      throw new LabError(
        `${tool} is missing (Debian: apt-get install iproute2 nftables conntrack util-linux procps)`,
      );
    }
  }
}

const osSignal = (s: NodeJS.Signals) => constants.signals[s] ?? 1;
