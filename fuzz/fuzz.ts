/**
 * The fuzzer: starts a real server (fresh data dir, throttling off, nonce ceilings out of the
 * way, short header and request timeouts), sets up a world of resources, then drives the server
 * for a given time with two generators at once — raw sockets (fuzz/raw.ts) and validly signed
 * requests with mutated parameters (fuzz/signed.ts) — and judges every answer (fuzz/answer.ts).
 * Inputs that get a 5xx, hang, close without an answer where the server has no reason to, or
 * get an answer outside the envelope or XML that is not well-formed, are saved under the
 * findings directory as the bytes sent and the bytes received.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../test/helpers/spawn.js';
import { type Answer, codeOf, judge, type Problem } from './answer.js';
import { REGION, type World, ZONE } from './corpus.js';
import { ECS, type Pairs, stateGzipValues, VPC } from './mutate.js';
import { KeepAlive, type ProbeResult, probe, type Target } from './probe.js';
import { type RawCase, type RawContext, rawCase, SILENT_REASONS, slowCase } from './raw.js';
import { Rng } from './rng.js';
import { buildSigned, type Signer } from './sign.js';
import { harvest, signedInput } from './signed.js';

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Where findings are saved (created when there is one). */
  findingsDir: string;
  /** Raw cases in flight at once (default 128; many wait for a timeout). */
  rawConcurrency?: number;
  /** Keep-alive connections of the signed generator (default 16; an eighth of them TLS). */
  signedConnections?: number;
  /** Slow raw cases in flight at once (default 4). */
  slowConcurrency?: number;
  headerTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Progress lines (every 10 s). */
  log?: (line: string) => void;
}

type FindingKind = '5xx' | 'hang' | 'non-envelope' | 'malformed-xml' | 'unexpected-close';

export interface FuzzSummary {
  seed: number;
  seconds: number;
  inputs: number;
  raw: number;
  rawTls: number;
  signed: number;
  signedByShape: Record<string, number>;
  /** Answers by HTTP status (an input may get several answers, or none). */
  statuses: Record<string, number>;
  /** Error answers by code. */
  codes: Record<string, number>;
  fiveXx: number;
  hangs: number;
  nonEnvelope: number;
  malformedXml: number;
  closedExpected: Record<string, number>;
  closedUnexpected: number;
  /** Raw cases the fuzzer cut off itself (destroyed mid-request): not judged. */
  aborted: number;
  connectFailures: number;
  /** Signed inputs without a signature-level mutation refused as SignatureDoesNotMatch. */
  signatureMismatches: number;
  findings: number;
  findingsDir: string;
  /** Reasons of the problems seen, with counts (at most 20). */
  problemReasons: Record<string, number>;
  serverAlive: boolean;
  finalCheck: string;
  stderrProblems: string[];
  stopCode: number | null;
  /** GET /health every 250 ms during the run: the slowest answer, and how many took over 1 s. */
  heartbeat: { count: number; maxMs: number; over1s: number };
  /** Seconds into the run of each saved finding's input (what else happened then). */
  findingTimes: number[];
}

const MAX_SAVED_PER_KIND = 50;

class Tally {
  readonly s: FuzzSummary;
  private saved = new Map<string, number>();
  constructor(seed: number, dir: string) {
    this.s = {
      seed,
      seconds: 0,
      inputs: 0,
      raw: 0,
      rawTls: 0,
      signed: 0,
      signedByShape: {},
      statuses: {},
      codes: {},
      fiveXx: 0,
      hangs: 0,
      nonEnvelope: 0,
      malformedXml: 0,
      closedExpected: {},
      closedUnexpected: 0,
      aborted: 0,
      connectFailures: 0,
      signatureMismatches: 0,
      findings: 0,
      findingsDir: dir,
      problemReasons: {},
      serverAlive: false,
      finalCheck: '',
      stderrProblems: [],
      stopCode: null,
      heartbeat: { count: 0, maxMs: 0, over1s: 0 },
      findingTimes: [],
    };
  }

  count(map: Record<string, number>, key: string) {
    map[key] = (map[key] ?? 0) + 1;
  }

  /** Judges answers; returns the problems found. */
  answers(list: Answer[], heads: boolean[]): Problem[] {
    const out: Problem[] = [];
    list.forEach((a, i) => {
      this.count(this.s.statuses, String(a.status));
      const code = codeOf(a);
      if (code !== '') this.count(this.s.codes, code);
      out.push(...judge(a, heads[i] ?? false));
    });
    return out;
  }

  problems(ps: Problem[]) {
    const kinds = new Set(ps.map((p) => p.kind));
    if (kinds.has('5xx')) this.s.fiveXx++;
    if (kinds.has('non-envelope')) this.s.nonEnvelope++;
    if (kinds.has('malformed-xml')) this.s.malformedXml++;
    for (const p of ps) {
      if (Object.keys(this.s.problemReasons).length < 20 || p.reason in this.s.problemReasons) {
        this.count(this.s.problemReasons, `${p.kind}: ${p.reason}`);
      }
    }
  }

  /** When the run started (performance.now()). */
  started = 0;

  save(kind: FindingKind, sent: Buffer, received: Buffer, meta: Record<string, unknown>) {
    this.s.findings++;
    const at = Math.round((performance.now() - this.started) / 100) / 10;
    if (this.s.findingTimes.length < 100) this.s.findingTimes.push(at);
    meta = { atSeconds: at, ...meta };
    const n = this.saved.get(kind) ?? 0;
    if (n >= MAX_SAVED_PER_KIND) return;
    this.saved.set(kind, n + 1);
    mkdirSync(this.s.findingsDir, { recursive: true });
    const base = join(
      this.s.findingsDir,
      `${this.s.seed}-${kind}-${String(n + 1).padStart(3, '0')}`,
    );
    writeFileSync(`${base}.req`, sent);
    writeFileSync(`${base}.res`, received);
    writeFileSync(
      `${base}.json`,
      `${JSON.stringify({ kind, seed: this.s.seed, ...meta }, null, 2)}\n`,
    );
  }
}

/** A signed v1 GET on a connection, for the set-up; the JSON answer or an error. */
async function call(
  conn: KeepAlive,
  signer: Signer,
  pairs: Pairs,
): Promise<Record<string, unknown>> {
  const built = buildSigned('v1-get', pairs, signer);
  const e = await conn.send(built.bytes, 30_000);
  if (e.kind !== 'answer') throw new Error(`set-up: ${pairs[0]![1]}: ${e.kind}`);
  const text = e.answer.body.toString('utf8');
  if (e.answer.status !== 200)
    throw new Error(`set-up: ${pairs[0]![1]}: ${e.answer.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Resources for the templates: a VPC, a vSwitch, groups with rules, interfaces, tags. */
async function setUp(conn: KeepAlive, signer: Signer): Promise<World> {
  const ecs = (action: string, ...rest: Pairs): Pairs => [
    ['Action', action],
    ['Version', ECS],
    ['RegionId', REGION],
    ...rest,
  ];
  const vpcId = String(
    (
      await call(conn, signer, [
        ['Action', 'CreateVpc'],
        ['Version', VPC],
        ['RegionId', REGION],
        ['CidrBlock', '10.0.0.0/8'],
      ])
    ).VpcId,
  );
  const vswId = String(
    (
      await call(conn, signer, [
        ['Action', 'CreateVSwitch'],
        ['Version', VPC],
        ['RegionId', REGION],
        ['VpcId', vpcId],
        ['ZoneId', ZONE],
        ['CidrBlock', '10.1.0.0/16'],
      ])
    ).VSwitchId,
  );
  const group = async (...rest: Pairs) =>
    String((await call(conn, signer, ecs('CreateSecurityGroup', ...rest))).SecurityGroupId);
  const groups = [
    await group(['VpcId', vpcId], ['SecurityGroupName', 'big']),
    await group(
      ['VpcId', vpcId],
      ['SecurityGroupName', 'web'],
      ['Tag.1.Key', 'env'],
      ['Tag.1.Value', 'prod'],
    ),
    await group(['VpcId', vpcId], ['SecurityGroupName', 'empty']),
  ];
  const classicGroup = await group(['SecurityGroupName', 'classic']);
  const enterpriseGroup = await group(['VpcId', vpcId], ['SecurityGroupType', 'enterprise']);
  // ~90 rules in the big group: room for a few more before the limit
  const perms: Pairs = [];
  for (let i = 1; i <= 90; i++) {
    perms.push([`Permissions.${i}.IpProtocol`, i % 3 === 0 ? 'udp' : 'tcp']);
    perms.push([`Permissions.${i}.PortRange`, `${i * 10}/${i * 10 + 5}`]);
    perms.push([`Permissions.${i}.SourceCidrIp`, `10.${i}.0.0/16`]);
    perms.push([`Permissions.${i}.Priority`, String((i % 100) + 1)]);
    if (i % 4 === 0) perms.push([`Permissions.${i}.Policy`, 'drop']);
  }
  await call(
    conn,
    signer,
    ecs('AuthorizeSecurityGroup', ['SecurityGroupId', groups[0]!], ...perms),
  );
  await call(
    conn,
    signer,
    ecs(
      'AuthorizeSecurityGroup',
      ['SecurityGroupId', groups[1]!],
      ['IpProtocol', 'tcp'],
      ['PortRange', '22/22'],
      ['SourceCidrIp', '0.0.0.0/0'],
    ),
  );
  await call(
    conn,
    signer,
    ecs(
      'AuthorizeSecurityGroup',
      ['SecurityGroupId', groups[1]!],
      ['IpProtocol', 'tcp'],
      ['PortRange', '5432/5432'],
      ['SourceGroupId', groups[0]!],
    ),
  );
  await call(
    conn,
    signer,
    ecs(
      'AuthorizeSecurityGroup',
      ['SecurityGroupId', groups[1]!],
      ['IpProtocol', 'all'],
      ['PortRange', '-1/-1'],
      ['Ipv6SourceCidrIp', '2001:db8::/32'],
      ['Policy', 'drop'],
    ),
  );
  await call(
    conn,
    signer,
    ecs(
      'AuthorizeSecurityGroupEgress',
      ['SecurityGroupId', groups[1]!],
      ['IpProtocol', 'udp'],
      ['PortRange', '53/53'],
      ['DestCidrIp', '10.0.0.0/8'],
    ),
  );
  const eni = async (...rest: Pairs) =>
    String(
      (await call(conn, signer, ecs('CreateNetworkInterface', ['VSwitchId', vswId], ...rest)))
        .NetworkInterfaceId,
    );
  const enis = [
    await eni(
      ['SecurityGroupIds.1', groups[1]!],
      ['SecurityGroupIds.2', groups[0]!],
      ['PrimaryIpAddress', '10.1.0.10'],
    ),
    await eni(['SecurityGroupId', groups[1]!], ['SecondaryPrivateIpAddressCount', '2']),
  ];
  const rules = (await call(
    conn,
    signer,
    ecs('DescribeSecurityGroupAttribute', ['SecurityGroupId', groups[1]!]),
  )) as {
    Permissions: { Permission: { SecurityGroupRuleId: string; Direction: string }[] };
  };
  const ingressRules = rules.Permissions.Permission.filter((p) => p.Direction === 'ingress').map(
    (p) => p.SecurityGroupRuleId,
  );
  const egressRules = rules.Permissions.Permission.filter((p) => p.Direction === 'egress').map(
    (p) => p.SecurityGroupRuleId,
  );
  const state = (await call(conn, signer, ecs('ExportState'))).State;
  return {
    ids: {
      groups: [...groups, classicGroup, enterpriseGroup],
      enis,
      vpcs: [vpcId],
      vswitches: [vswId],
      rules: [...ingressRules, ...egressRules],
    },
    vpc: vpcId,
    vswitch: vswId,
    groups,
    classicGroup,
    enterpriseGroup,
    enis,
    ingressRules,
    egressRules,
    state,
    scratch: { groups: [], enis: [], vpcs: [], vswitches: [] },
  };
}

/** Lines of the server's stderr that tell of a crash or an internal error. */
function stderrProblems(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => /"level":"(error|fatal)"|Uncaught|Unhandled|Error:|^\s+at /.test(l))
    .slice(0, 20)
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}…` : l));
}

function judgeRaw(t: Tally, c: RawCase, r: ProbeResult, deadlineMs: number) {
  const problems = t.answers(r.answers, r.heads);
  const sent = Buffer.concat(c.segments);
  const meta = {
    label: c.label,
    tls: c.tls,
    close: c.close,
    methods: c.methods,
    framed: c.framed,
    ending: r.ending,
    error: r.error,
    reason: r.reason,
  };
  const tlsAlert = c.silent === 'tls-record' && r.answers.length === 0;
  if (r.ending === 'garbage' && !tlsAlert) {
    problems.push({ kind: 'non-envelope', reason: `garbage answer: ${r.reason}` });
  }
  if (r.ending === 'closed' && r.partial)
    problems.push({ kind: 'non-envelope', reason: 'an answer cut off by the close' });
  t.problems(problems);
  for (const kind of new Set(problems.map((p) => p.kind))) {
    t.save(kind, sent, r.received, { ...meta, problems });
  }
  if (r.ending === 'aborted') t.s.aborted++;
  else if (r.ending === 'garbage' && tlsAlert) t.count(t.s.closedExpected, 'tls-record');
  else if (r.ending === 'connect-failed') {
    if (c.silent) t.count(t.s.closedExpected, c.silent);
    else t.s.connectFailures++;
  } else if (r.ending === 'hang') {
    const missing = r.answers.length === 0 || (c.framed && r.answers.length < c.methods.length);
    if (missing) {
      t.s.hangs++;
      t.save('hang', sent, r.received, { ...meta, answers: r.answers.length, deadlineMs });
    }
  } else if (r.ending === 'closed' && r.answers.length === 0) {
    if (c.silent) t.count(t.s.closedExpected, c.silent);
    else {
      t.s.closedUnexpected++;
      t.count(
        t.s.problemReasons,
        `unexpected close: ${c.label.split(':')[0]}${r.error ? ` (${r.error})` : ''}`,
      );
      t.save('unexpected-close', sent, r.received, meta);
    }
  }
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzSummary> {
  const headerTimeoutMs = opts.headerTimeoutMs ?? 2000;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 3000;
  const deadlineMs = Math.max(headerTimeoutMs, requestTimeoutMs) + 5000;
  const log = opts.log ?? (() => {});
  const t = new Tally(opts.seed, opts.findingsDir);
  const srv: TestServer = await startServer({
    args: [
      '--log-level',
      'warn',
      '--throttle-rate',
      '0',
      '--max-nonces-per-key',
      '1000000000',
      '--max-nonces',
      '1000000000',
      '--header-timeout',
      String(headerTimeoutMs),
      '--request-timeout',
      String(requestTimeoutMs),
    ],
  });
  const target: Target = { port: srv.port, ca: readFileSync(srv.caFile, 'utf8') };
  let nonces = 0;
  const prefix = `${opts.seed.toString(36)}-${Date.now().toString(36)}-`;
  const signer: Signer = {
    accessKeyId: 'test',
    secret: 'test',
    host: srv.host,
    nonce: () => prefix + (++nonces).toString(36),
  };
  const setupConn = new KeepAlive(target, false);
  const world = await setUp(setupConn, signer);
  setupConn.close();
  stateGzipValues(); // made before the clock starts
  const root = new Rng(opts.seed);
  const rawCtx: RawContext = {
    signer,
    host: srv.host,
    headerTimeoutMs,
    requestTimeoutMs,
    groupId: world.groups[1]!,
  };

  const started = performance.now();
  t.started = started;
  const end = started + opts.seconds * 1000;
  const running = () => performance.now() < end;

  // How responsive the server stays: a stall shows here, and explains timeouts around it.
  const heartbeat = async () => {
    const conn = new KeepAlive(target, false);
    const ping = Buffer.from(`GET /health HTTP/1.1\r\nhost: ${srv.host}\r\n\r\n`);
    while (running()) {
      const t0 = performance.now();
      await conn.send(ping, deadlineMs);
      const ms = performance.now() - t0;
      t.s.heartbeat.count++;
      t.s.heartbeat.maxMs = Math.max(t.s.heartbeat.maxMs, ms);
      if (ms > 1000) t.s.heartbeat.over1s++;
      await new Promise((r) => setTimeout(r, 250));
    }
    conn.close();
  };

  const rawWorker = async (rng: Rng, slow: boolean) => {
    while (running()) {
      const c = slow ? slowCase(rng, rawCtx) : rawCase(rng, rawCtx);
      const r = await probe(target, c, deadlineMs);
      t.s.inputs++;
      t.s.raw++;
      if (c.tls) t.s.rawTls++;
      judgeRaw(t, c, r, deadlineMs);
    }
  };

  const signedWorker = async (rng: Rng, tls: boolean) => {
    const conn = new KeepAlive(target, tls);
    while (running()) {
      const input = signedInput(rng, world, signer);
      const e = await conn.send(input.built.bytes, deadlineMs);
      t.s.inputs++;
      t.s.signed++;
      t.count(t.s.signedByShape, input.shape);
      const meta = {
        action: input.action,
        shape: input.shape,
        ops: input.ops,
        signatureOp: input.signatureOp,
        tls,
      };
      if (e.kind === 'answer') {
        const problems = t.answers([e.answer], [false]);
        t.problems(problems);
        for (const kind of new Set(problems.map((p) => p.kind))) {
          t.save(kind, input.built.bytes, e.received, { ...meta, problems });
        }
        harvest(
          world,
          // a mutation may have changed the action (into a Create, say): the one sent counts
          input.pairs.findLast(([k]) => k === 'Action')?.[1] ?? input.action,
          e.answer.status,
          e.answer.body.toString('latin1'),
          input.pairs,
          input.ops.length > 0 || input.signatureOp !== undefined,
        );
        if (
          e.answer.status !== 200 &&
          !input.signatureOp &&
          codeOf(e.answer) === 'SignatureDoesNotMatch'
        ) {
          t.s.signatureMismatches++;
        }
      } else if (e.kind === 'hang') {
        t.s.hangs++;
        t.save('hang', input.built.bytes, e.received, { ...meta, deadlineMs });
      } else if (e.kind === 'closed') {
        t.s.closedUnexpected++;
        t.count(t.s.problemReasons, `unexpected close: signed ${input.action}`);
        t.save('unexpected-close', input.built.bytes, e.received, { ...meta, partial: e.partial });
      } else if (e.kind === 'garbage') {
        t.s.nonEnvelope++;
        t.count(t.s.problemReasons, `non-envelope: garbage answer: ${e.reason}`);
        t.save('non-envelope', input.built.bytes, e.received, { ...meta, reason: e.reason });
      } else {
        t.s.connectFailures++;
      }
    }
    conn.close();
  };

  const signedConnections = opts.signedConnections ?? 16;
  const rawConcurrency = opts.rawConcurrency ?? 128;
  const slowConcurrency = opts.slowConcurrency ?? 4;
  const workers: Promise<void>[] = [heartbeat()];
  for (let i = 0; i < signedConnections; i++) workers.push(signedWorker(root.fork(), i % 8 === 7));
  for (let i = 0; i < rawConcurrency; i++) workers.push(rawWorker(root.fork(), false));
  for (let i = 0; i < slowConcurrency; i++) workers.push(rawWorker(root.fork(), true));

  const progress = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    log(
      `  ${s.toFixed(0).padStart(4)} s  ${t.s.inputs.toLocaleString('en-US')} inputs (${Math.round(t.s.inputs / s).toLocaleString('en-US')}/s)  5xx ${t.s.fiveXx}  hangs ${t.s.hangs}  non-envelope ${t.s.nonEnvelope}  malformed XML ${t.s.malformedXml}  unexpected closes ${t.s.closedUnexpected}`,
    );
  }, 10_000);
  await Promise.all(workers);
  clearInterval(progress);
  t.s.seconds = (performance.now() - started) / 1000;

  // The server must still be there and serving.
  t.s.serverAlive = srv.proc.exitCode === null && srv.proc.signalCode === null;
  if (t.s.serverAlive) {
    const check = new KeepAlive(target, false);
    const e = await check.send(
      buildSigned(
        'v1-get',
        [
          ['Action', 'DescribeRegions'],
          ['Version', ECS],
        ],
        signer,
      ).bytes,
      deadlineMs,
    );
    check.close();
    if (e.kind !== 'answer') t.s.finalCheck = `DescribeRegions: ${e.kind}`;
    else {
      const body = e.answer.body.toString('utf8');
      t.s.finalCheck =
        e.answer.status === 200 && body.includes('"RegionId":"cn-hangzhou"')
          ? 'ok'
          : `DescribeRegions: ${e.answer.status} ${body.slice(0, 200)}`;
    }
  } else
    t.s.finalCheck = `server exited (code ${srv.proc.exitCode}, signal ${srv.proc.signalCode})`;
  t.s.stopCode = await srv.stop();
  t.s.stderrProblems = stderrProblems(srv.stderr());
  return t.s;
}

/** Whether the run found anything (the exit code of `npm run fuzz`). */
export function failed(s: FuzzSummary): boolean {
  return (
    s.fiveXx > 0 ||
    s.hangs > 0 ||
    s.nonEnvelope > 0 ||
    s.malformedXml > 0 ||
    s.closedUnexpected > 0 ||
    !s.serverAlive ||
    s.finalCheck !== 'ok' ||
    s.stderrProblems.length > 0
  );
}

const n = (x: number) => x.toLocaleString('en-US');

const sorted = (m: Record<string, number>) =>
  Object.entries(m)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');

export function formatSummary(s: FuzzSummary): string {
  const expected = Object.values(s.closedExpected).reduce((a, b) => a + b, 0);
  const lines = [
    `inputs:          ${n(s.inputs)} in ${s.seconds.toFixed(1)} s (${n(Math.round(s.inputs / s.seconds))}/s); seed ${s.seed}`,
    `  raw sockets:   ${n(s.raw)} (${n(s.rawTls)} over TLS), ${n(s.aborted)} of them cut off by the fuzzer on purpose (not judged)`,
    `  signed:        ${n(s.signed)} (${sorted(s.signedByShape)})`,
    `answers by status: ${Object.entries(s.statuses)
      .sort()
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ')}`,
    `top error codes: ${sorted(s.codes).split(', ').slice(0, 12).join(', ')}`,
    `5xx:             ${n(s.fiveXx)}`,
    `hangs:           ${n(s.hangs)}`,
    `closed without answer: ${n(expected)} expected, ${n(s.closedUnexpected)} unexpected`,
    ...Object.entries(s.closedExpected).map(
      ([k, v]) => `  ${k} ${n(v)}: ${SILENT_REASONS[k as keyof typeof SILENT_REASONS] ?? k}`,
    ),
    `non-envelope:    ${n(s.nonEnvelope)}`,
    `malformed XML:   ${n(s.malformedXml)}`,
    `signature mismatches of correctly signed inputs: ${n(s.signatureMismatches)}`,
    `connect failures (the fuzzer's side): ${n(s.connectFailures)}`,
    `responsiveness:  GET /health every 250 ms, slowest ${n(s.heartbeat.maxMs)} ms, ${n(s.heartbeat.over1s)} of ${n(s.heartbeat.count)} over 1 s`,
    `server:          ${s.serverAlive ? 'alive' : 'DEAD'}, final DescribeRegions ${s.finalCheck}, stopped with exit code ${s.stopCode}, stderr ${s.stderrProblems.length === 0 ? 'clean' : 'with problems:'}`,
    ...s.stderrProblems.map((l) => `  ${l}`),
  ];
  if (Object.keys(s.problemReasons).length > 0) {
    lines.push(
      'problems:',
      ...Object.entries(s.problemReasons).map(([k, v]) => `  ${n(v)} × ${k}`),
    );
  }
  lines.push(
    s.findings > 0
      ? `findings:        ${n(s.findings)}, saved (at most ${MAX_SAVED_PER_KIND} of each kind) in ${s.findingsDir}/ as .req (bytes sent), .res (bytes received), .json; at ${s.findingTimes.slice(0, 10).join(', ')} s into the run`
      : `findings:        none (they would be saved in ${s.findingsDir}/)`,
    `result:          ${failed(s) ? 'FAIL' : 'PASS'}`,
  );
  return lines.join('\n');
}
