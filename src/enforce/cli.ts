/** `ecs-secgroup agent`: enforces the rules of the interfaces plugged into this host. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connectionFrom } from '../connection.js';
import type { FeedState } from '../feed/state.js';
import { type LabConfig, portName } from '../lab/names.js';
import { LabPlumber } from '../lab/plumb.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../log.js';
import { Agent, type Plumber } from './agent.js';
import { type Binding, compile } from './compile.js';
import { Conntrack } from './conntrack.js';
import { NETNS_DIR } from './exec.js';
import { FeedClient } from './feed-client.js';
import { AgentModel } from './model.js';
import { Nft } from './nft.js';
import { script, TABLE_PREFIX } from './ruleset.js';
import { writeStatus } from './status.js';

export const AGENT_USAGE = `Usage: ecs-secgroup agent --bind eni-…=IFNAME [--bind …] [options]

Puts the security-group rules of the interfaces plugged into this host into the kernel
(nftables) and keeps them there as they change: IFNAME is the host side of the interface's
port. Until its rules are in place, a port drops new flows.

Options:
  --bind ENI=IFNAME         an interface and its port (repeatable)
  --netns NAME              enforce in this named network namespace (default: this one)
  --table NAME              the nftables table (default ${TABLE_PREFIX}; must begin with ${TABLE_PREFIX})
  --status-file FILE        keep the agent's status (JSON) in this file
  --dry-run                 print the ruleset it would apply, and exit
  --resync-seconds N        read the kernel's table again this often (default 30)
  --log-level LEVEL         error | warn | info | debug (default info)
${CONNECTION_USAGE}                            (--endpoint may list several nodes, comma-separated)
  --lab DIR                 be the agent of the lab in DIR (what \`lab up\` starts)
`;

export class AgentUsageError extends Error {}

const BIND = /^(eni-[0-9a-z]{1,64})=([A-Za-z0-9_.-]{1,15})$/;

function parseBindings(values: readonly string[]): Binding[] {
  const out: Binding[] = [];
  for (const v of values) {
    const m = BIND.exec(v);
    if (!m)
      throw new AgentUsageError(`--bind expects eni-…=IFNAME (at most 15 characters), got "${v}"`);
    if (out.some((b) => b.eniId === m[1] || b.ifname === m[2])) {
      throw new AgentUsageError(`--bind ${v}: that interface or port is bound already`);
    }
    out.push({ eniId: m[1]!, ifname: m[2]! });
  }
  return out;
}

interface Setup {
  bindings: (state: FeedState) => readonly Binding[];
  netns?: string;
  strict: boolean;
  statusFile?: string;
  plumber?: Plumber;
  endpoint: string;
  regionId: string;
  accessKeyId: string;
}

/** The lab's agent: every interface of its VPC, plugged by the lab's plumbing. */
function labSetup(dir: string, log: Logger): Setup {
  const file = join(dir, 'lab.json');
  if (!existsSync(file)) throw new AgentUsageError(`--lab ${dir}: no lab.json there`);
  const lab = JSON.parse(readFileSync(file, 'utf8')) as LabConfig;
  return {
    bindings: (state) =>
      [...state.interfaces.values()]
        .filter((e) => e.vpcId === lab.vpcId)
        .map((e) => ({ eniId: e.id, ifname: portName(e.id) })),
    netns: lab.hostNetns,
    strict: true,
    statusFile: join(dir, 'status.json'),
    plumber: new LabPlumber(lab.hostNetns, dir, log),
    endpoint: lab.endpoint,
    regionId: lab.regionId,
    accessKeyId: lab.accessKeyId,
  };
}

export async function runAgent(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bind: { type: 'string', multiple: true },
      netns: { type: 'string' },
      table: { type: 'string' },
      'status-file': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'resync-seconds': { type: 'string' },
      'log-level': { type: 'string' },
      lab: { type: 'string' },
      ...CONNECTION_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(AGENT_USAGE);
    return 0;
  }
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(level))
    throw new AgentUsageError(`--log-level expects one of ${LOG_LEVELS}`);
  const log = createLogger(level);
  const table = values.table ?? TABLE_PREFIX;
  if (!table.startsWith(TABLE_PREFIX)) {
    throw new AgentUsageError(`--table must begin with ${TABLE_PREFIX}`);
  }
  const conn = connectionFrom(values);
  let setup: Setup;
  if (values.lab !== undefined) {
    setup = labSetup(values.lab, log);
  } else {
    const bindings = parseBindings(values.bind ?? []);
    if (bindings.length === 0) throw new AgentUsageError('give at least one --bind eni-…=IFNAME');
    setup = {
      bindings: () => bindings,
      netns: values.netns,
      strict: false,
      statusFile: values['status-file'],
      ...conn,
    };
  }
  if (setup.netns !== undefined && !existsSync(join(NETNS_DIR, setup.netns))) {
    throw new AgentUsageError(`no network namespace ${setup.netns} (${NETNS_DIR}/${setup.netns})`);
  }
  const resync = Number(values['resync-seconds'] ?? 30);
  if (!Number.isInteger(resync) || resync < 1)
    throw new AgentUsageError('--resync-seconds expects a whole number of seconds');
  const feed = new FeedClient(
    {
      endpoints: setup.endpoint
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
      accessKeyId: setup.accessKeyId,
      accessKeySecret: conn.accessKeySecret,
      regionId: setup.regionId,
      caFile: conn.caFile,
    },
    log,
  );
  const opts = { table, strict: setup.strict };
  if (values['dry-run']) {
    const model = new AgentModel();
    model.apply(await feed.next(null, AbortSignal.timeout(30_000)));
    const compiled = compile(model.state, setup.bindings(model.state), opts);
    process.stdout.write(script(compiled.ruleset));
    return 0;
  }
  const statusFile = setup.statusFile;
  const agent = new Agent({
    ...opts,
    feed,
    nft: new Nft(table, setup.netns),
    conntrack: new Conntrack(setup.netns),
    bindings: setup.bindings,
    plumber: setup.plumber,
    log,
    resyncMs: resync * 1000,
    onStatus: statusFile ? (s) => writeStatus(statusFile, s) : undefined,
  });
  await agent.start();
  log.info(
    `agent: ports fail closed in table ${table}${setup.netns ? ` of netns ${setup.netns}` : ''}; following ${setup.endpoint}`,
  );
  agent.whenSynced().then(() => log.info('agent: first sync complete; enforcing'));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`agent: ${signal}, stopping (the kernel keeps enforcing the last rules)`);
      agent.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
