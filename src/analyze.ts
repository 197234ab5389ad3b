/**
 * `ecs-secgroup analyze sg-…|eni-…`: asks a running server to analyze a group's or an
 * interface's rules, prints the findings by severity with witness packets as `check` command
 * lines, and exits 3 when a finding is at or above `--fail-on` (for CI pipelines).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { callRpc } from './client.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionFrom,
  REGION_USAGE,
} from './connection.js';

export const ANALYZE_USAGE = `Usage: ecs-secgroup analyze sg-…|eni-… [options]

Judges every rule of a security group (as for an interface in that group alone) or of an
interface (the rules of all its groups together): which rules can never decide, which have
no effect, which conflict, which ports of the list are open to public addresses. Every
finding comes with a witness packet, printed as an ecs-secgroup check command.

Options:
  --json                    print the server's answer as JSON
  --what-if FILE            a proposed change (JSON, see below): findings are those after
                            it, and the packets whose verdict it changes are listed
  --fail-on LEVEL           low | medium | high | critical (default high)
  --direction D             ingress | egress (default both)
  --ports LIST              ports whose exposure is reported, e.g. 22,3389,20-23
                            (default 20-23,25,135,139,445,1433,1521,2375,3306,3389,5432,
                            5601,5900,6379,9200,9300,11211,27017)
${REGION_USAGE}${CONNECTION_USAGE}
What-if file: {"add": [permission, …], "remove": ["sgr-…", …]}, both optional. A permission
holds the parameters of AuthorizeSecurityGroup (IpProtocol, PortRange, SourceCidrIp, Policy,
Priority, …) and Direction (ingress | egress); at an interface in several groups also
SecurityGroupId, the group it goes into. Example:
  {"add": [{"Direction": "ingress", "IpProtocol": "tcp", "PortRange": "22/22",
            "SourceCidrIp": "0.0.0.0/0"}],
   "remove": ["sgr-0123456789abcdef"]}

Exit code: 0 no finding at or above --fail-on, 3 otherwise, 2 usage or request error.
`;

const LEVELS = ['low', 'medium', 'high', 'critical'] as const;

// biome-ignore lint/suspicious/noExplicitAny: the server's answer is navigated freely
type Json = any;

/** The what-if file as Add.N.* / Remove.N parameters. */
export function whatIfParams(text: string, file: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  const bad = (why: string) => new Error(`${file}: ${why}`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw bad('expected an object {"add": [...], "remove": [...]}');
  }
  const { add = [], remove = [], ...rest } = doc as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw bad(`unknown key "${Object.keys(rest)[0]}"`);
  if (!Array.isArray(add)) throw bad('"add" must be an array of permissions');
  if (!Array.isArray(remove) || !remove.every((id) => typeof id === 'string')) {
    throw bad('"remove" must be an array of rule ids');
  }
  const out: Record<string, string> = {};
  add.forEach((perm: unknown, i) => {
    if (typeof perm !== 'object' || perm === null || Array.isArray(perm)) {
      throw bad(`add[${i}] must be an object of permission parameters`);
    }
    for (const [k, v] of Object.entries(perm)) {
      if (typeof v !== 'string' && typeof v !== 'number') {
        throw bad(`add[${i}].${k} must be a string or a number`);
      }
      out[`Add.${i + 1}.${k}`] = String(v);
    }
  });
  remove.forEach((id: string, i) => {
    out[`Remove.${i + 1}`] = id;
  });
  return out;
}

/** The `ecs-secgroup check` command that sends a witness (`$ENI` for a group's). */
export function checkCommand(w: Json): string {
  const eni = w.NetworkInterfaceId ?? '"$ENI"';
  const ingress = w.Direction === 'ingress';
  const ports = w.LocalPort !== undefined;
  const parts = [
    'ecs-secgroup check',
    `--from ${ingress ? w.PeerIp : eni}`,
    `--to ${ingress ? eni : w.PeerIp}`,
    `--proto ${w.IpProtocol}`,
    ...(ports
      ? [
          `--port ${ingress ? w.LocalPort : w.PeerPort}`,
          `--source-port ${ingress ? w.PeerPort : w.LocalPort}`,
        ]
      : []),
    `--local-ip ${w.LocalIp}`,
    `--nic-type ${w.NicType}`,
  ];
  return parts.join(' ');
}

function report(target: string, answer: Json): string {
  const rules: Json[] = answer.Rules.Rule;
  const found: Json[] = answer.Findings.Finding;
  const changes: Json[] = answer.Changes.Change;
  const unreachable = rules.filter((r) => !r.Reachable).length;
  const lines = [
    `${target}: ${rules.length} rules, ${rules.length - unreachable} reachable, ${unreachable} unreachable; ${found.length} findings`,
  ];
  if (target.startsWith('sg-')) {
    lines.push(
      `(as decided for an interface in ${target} alone: set ENI to one to run the checks)`,
    );
  }
  for (const level of [...LEVELS].reverse()) {
    const these = found.filter((f) => f.Severity === level);
    if (these.length === 0) continue;
    lines.push('', level.toUpperCase());
    for (const f of these) {
      lines.push(`  ${f.Type}${f.Port !== undefined ? ` ${f.Port}` : ''}: ${f.Message}`);
      if (f.Witness) lines.push(`    ${checkCommand(f.Witness)}`);
    }
  }
  if (changes.length > 0) {
    lines.push('', 'CHANGES (what-if)');
    for (const c of changes) {
      lines.push(`  ${c.Message}`, `    ${checkCommand(c.Witness)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function runAnalyze(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      'what-if': { type: 'string' },
      'fail-on': { type: 'string' },
      direction: { type: 'string' },
      ports: { type: 'string' },
      ...CONNECTION_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(ANALYZE_USAGE);
    return 0;
  }
  const [target, ...extra] = positionals;
  if (target === undefined || extra.length > 0 || !/^(sg|eni)-/.test(target)) {
    throw new Error('give one security group (sg-…) or interface (eni-…)');
  }
  const failOn = values['fail-on'] ?? 'high';
  const threshold = LEVELS.indexOf(failOn as (typeof LEVELS)[number]);
  if (threshold < 0) throw new Error(`--fail-on expects one of ${LEVELS.join(', ')}`);
  const conn = connectionFrom(values);
  const params: Record<string, string> = { RegionId: conn.regionId };
  if (target.startsWith('sg-')) params.SecurityGroupId = target;
  else params.NetworkInterfaceId = target;
  if (values.direction !== undefined) params.Direction = values.direction;
  (values.ports?.split(',') ?? []).forEach((p, i) => {
    params[`ExposurePort.${i + 1}`] = p.trim();
  });
  const file = values['what-if'];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`--what-if: ${(e as Error).message}`);
    }
    Object.assign(params, whatIfParams(text, file));
  }
  const action = target.startsWith('sg-') ? 'AnalyzeSecurityGroup' : 'AnalyzeNetworkInterface';
  const answer = await callRpc(conn, action, params);
  process.stdout.write(values.json ? `${JSON.stringify(answer)}\n` : report(target, answer));
  const failing = (answer as Json).Findings.Finding.filter(
    (f: Json) => LEVELS.indexOf(f.Severity) >= threshold,
  );
  return failing.length > 0 ? 3 : 0;
}
