/** `ecs-secgroup check`: asks a running server whether traffic is accepted, and why. */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ClientError, callRpc, RpcError } from './client.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_USAGE,
  connectionFrom,
  REGION_USAGE,
} from './connection.js';

export const CHECK_USAGE = `Usage: ecs-secgroup check --from A --to B --proto P [--port N] [options]

A and B are each an IP address or a network interface id (eni-…); at least one is an
interface. IP → eni checks ingress at the interface, eni → IP egress, eni → eni both
(egress at the sender, ingress at the receiver).

Options:
  --from A, --to B          the two ends
  --proto P                 tcp | udp | icmp | gre
  --port N                  destination port (tcp/udp)
  --source-port N           source port (default 49152)
  --local-ip IP             the interface-side address (default its primary address)
  --nic-type T              intranet | internet (default intranet)
${REGION_USAGE}${CONNECTION_USAGE}  --json                    print the server's answer as JSON
Exit code: 0 accepted, 1 dropped, 2 usage or request error.
`;

const isEni = (s: string) => s.startsWith('eni-');

type View = Record<string, string>;

const verdictOf = (v: View) => (v.Verdict === 'Accept' ? 'ACCEPT' : 'DROP');

function because(v: View): string {
  if (v.Reason === 'Rule') {
    return `rule ${v.SecurityGroupRuleId} of ${v.SecurityGroupId} (priority ${v.Priority}, ${v.Policy})`;
  }
  if (v.Reason === 'InnerAccess') return 'inner access of a shared security group';
  return 'no rule matched (default)';
}

export async function runCheck(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      proto: { type: 'string' },
      port: { type: 'string' },
      'source-port': { type: 'string' },
      'local-ip': { type: 'string' },
      'nic-type': { type: 'string' },
      ...CONNECTION_OPTIONS,
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(CHECK_USAGE);
    return 0;
  }
  const { from, to, proto } = values;
  if (!from || !to || !proto) throw new ClientError('--from, --to and --proto are required');
  if (!isEni(from) && !isEni(to)) {
    throw new ClientError('one of --from and --to must be an interface (eni-…)');
  }
  const ports = /^(tcp|udp)$/i.test(proto);
  if (!/^(tcp|udp|icmp|icmpv6|gre)$/i.test(proto)) {
    throw new ClientError(`--proto ${proto}: expected tcp, udp, icmp, icmpv6 or gre`);
  }
  const port = values.port ?? '';
  if (ports && port === '') throw new ClientError(`--port is required with --proto ${proto}`);
  const sport = values['source-port'] ?? '49152';
  for (const [flag, v] of [
    ['--port', port],
    ['--source-port', sport],
  ] as const) {
    if (v !== '' && (!/^\d{1,5}$/.test(v) || Number(v) > 65535)) {
      throw new ClientError(`${flag} ${v}: expected a port number (0-65535)`);
    }
  }
  const conn = connectionFrom(values);
  const params: Record<string, string> = { RegionId: conn.regionId, IpProtocol: proto };
  let direction: string;
  if (isEni(from) && isEni(to)) {
    direction = 'interface to interface';
    Object.assign(params, {
      SourceNetworkInterfaceId: from,
      DestNetworkInterfaceId: to,
      SourcePort: sport,
      DestPort: port,
    });
  } else {
    direction = isEni(to) ? 'ingress' : 'egress';
    Object.assign(params, {
      NetworkInterfaceId: isEni(to) ? to : from,
      Direction: direction,
      PeerIp: isEni(to) ? from : to,
      PeerPort: isEni(to) ? sport : port,
      LocalPort: isEni(to) ? port : sport,
    });
    if (values['local-ip']) params.LocalIp = values['local-ip'];
    if (values['nic-type']) params.NicType = values['nic-type'];
  }
  for (const k of Object.keys(params)) if (params[k] === '') delete params[k];
  const answer = (await callRpc(conn, 'CheckSecurityGroupTraffic', params)) as View & {
    Egress?: View;
    Ingress?: View;
  };
  const accepted = answer.Verdict === 'Accept';
  if (values.json) {
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  } else {
    const end = (who: string, p: string) =>
      p === '' ? who : isIP(who) === 6 ? `[${who}]:${p}` : `${who}:${p}`;
    const flow = `${proto.toLowerCase()} ${end(from, port ? sport : '')} -> ${end(to, port)}`;
    const why =
      answer.Egress && answer.Ingress
        ? `egress ${verdictOf(answer.Egress)} by ${because(answer.Egress)}; ingress ${verdictOf(answer.Ingress)} by ${because(answer.Ingress)}`
        : because(answer);
    process.stdout.write(`${accepted ? 'ACCEPT' : 'DROP'} ${flow} (${direction}): ${why}\n`);
  }
  return accepted ? 0 : 1;
}

export function describeCheckError(e: unknown): string {
  if (e instanceof RpcError) return `${e.message} (HTTP ${e.status})`;
  return (e as Error).message;
}
