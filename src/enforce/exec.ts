/**
 * Runs the kernel's tools (nft, conntrack, ip, sysctl), in a named network namespace when
 * one is given (`nsenter --net=/run/netns/NAME`, the registration `ip netns` makes).
 */
import { spawn } from 'node:child_process';

export const NETNS_DIR = '/run/netns';

export class ExecError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(
      `${argv.join(' ')} failed (${code === null ? 'killed' : `exit ${code}`}): ${stderr.trim()}`,
    );
  }
}

export interface RunOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** An open file descriptor to be the command's stdin instead. */
  stdinFd?: number;
  /** The named network namespace to run in; the current one when absent. */
  netns?: string;
  timeoutMs?: number;
  /** Resolve instead of rejecting on these exit codes. */
  okCodes?: readonly number[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The argv that runs `argv` in `netns`. */
export function inNetns(argv: readonly string[], netns?: string): string[] {
  return netns === undefined
    ? [...argv]
    : ['nsenter', `--net=${NETNS_DIR}/${netns}`, '--', ...argv];
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = inNetns(argv, opts.netns);
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), {
      stdio: [opts.stdinFd ?? 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new ExecError(full, null, err.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) {
        resolve({ code, stdout, stderr });
      } else reject(new ExecError(full, code, stderr || stdout));
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // a tool that exits early closes its stdin
      child.stdin.end(opts.input ?? '');
    }
  });
}
