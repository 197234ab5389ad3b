/** `ecs-secgroup lab up|down|status|exec`. */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONNECTION_OPTIONS, CONNECTION_USAGE, connectionFrom } from '../connection.js';
import { formatStatus, LabError, labDown, labExec, labStatus, labUp } from './lab.js';
import { LAB_ROOT } from './names.js';

export const LAB_USAGE = `Usage: ecs-secgroup lab up --vpc vpc-… [connection options]
       ecs-secgroup lab status [--vpc vpc-…] [--json]
       ecs-secgroup lab exec eni-… -- CMD [ARG…]
       ecs-secgroup lab down --vpc vpc-…

A lab puts every interface of a VPC on this machine: a network namespace named after the
interface (ip netns list shows it; ip netns exec eni-… CMD works) holding its primary and
secondary addresses, plugged into a host namespace of the lab where an agent enforces the
rules with nftables. up returns once the rules are in force; interfaces created, removed or
readdressed later follow. Needs root. State and the agent's log: ${LAB_ROOT}/VPC/.

Options:
  --vpc ID                  the VPC
  --json                    status as JSON
${CONNECTION_USAGE}`;

export { LabError };

export async function runLab(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(LAB_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'exec') {
    const sep = rest.indexOf('--');
    const eni = rest[0];
    const cmd = sep >= 0 ? rest.slice(sep + 1) : rest.slice(1);
    return labExec(eni, cmd);
  }
  const { values } = parseArgs({
    args: rest,
    options: { vpc: { type: 'string' }, json: { type: 'boolean' }, ...CONNECTION_OPTIONS },
  });
  if (command === 'up') {
    const s = await labUp({
      vpcId: values.vpc,
      conn: connectionFrom(values),
      cli: fileURLToPath(new URL('../cli.js', import.meta.url)),
    });
    process.stdout.write(
      `lab ${values.vpc} is up: ${s.ports.length} interface(s) enforcing at cursor ${s.appliedCursor}\n` +
        s.ports.map((p) => `  ${p.eniId}  ${p.addresses.join(', ')}\n`).join(''),
    );
    return 0;
  }
  if (command === 'down') {
    const removed = await labDown(values.vpc);
    process.stdout.write(`lab ${values.vpc} is down; removed ${removed.length} namespace(s)\n`);
    return 0;
  }
  if (command === 'status') {
    const views = labStatus(values.vpc);
    process.stdout.write(values.json ? `${JSON.stringify(views, null, 1)}\n` : formatStatus(views));
    return 0;
  }
  throw new LabError(`unknown lab command "${command}"`);
}
