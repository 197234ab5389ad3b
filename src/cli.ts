#!/usr/bin/env node
/** The command line: `ecs-secgroup [serve] [options]`. */
import { mkdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runAnalyze } from './analyze.js';
import { type AppConfig, DEFAULTS, startApp } from './app.js';
import { describeCheckError, runCheck } from './check.js';
import { ClientError, RpcError } from './client.js';
import { ConfigError } from './config-error.js';
import { claimDataDir } from './data-dir.js';
import { AgentUsageError, runAgent } from './enforce/cli.js';
import { ApiError } from './errors.js';
import { LabError, runLab } from './lab/cli.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './log.js';
import { runExport, runImport, runReset } from './state-commands.js';

const USAGE = `Usage: ecs-secgroup [serve] [options]
       ecs-secgroup check --from A --to B --proto P [--port N] (see: ecs-secgroup check --help)
       ecs-secgroup export [--out FILE]        an account's state as JSON (export --help)
       ecs-secgroup import FILE                that state created back (import --help)
       ecs-secgroup reset --data-dir DIR       empty a data directory (reset --help)
       ecs-secgroup analyze sg-…|eni-… [--json] [--what-if FILE] [--fail-on LEVEL]
                    (see: ecs-secgroup analyze --help)
       ecs-secgroup agent --bind eni-…=IFNAME … (see: ecs-secgroup agent --help)
       ecs-secgroup lab up|status|exec|down … (see: ecs-secgroup lab --help)

Serves the Alibaba Cloud ECS API (2014-05-26) for security groups over HTTP and HTTPS
(both on the same port).

Options:
  --host HOST                  address to listen on (default ${DEFAULTS.host})
  --port PORT                  port to listen on; 0 picks a free one (default ${DEFAULTS.port})
  --data-dir DIR               where the SQLite database lives (default ${DEFAULTS.dataDir})
  --store URL                  postgres://user:pass@host:port/db to use PostgreSQL
                               (default: $DATABASE_URL, else SQLite in --data-dir)
  --header-timeout MS          a connection's first byte, TLS handshake, and each request's
                               line and headers must arrive within this (default ${DEFAULTS.headerTimeoutMs})
  --request-timeout MS         each whole request, body included, must arrive within this
                               (default ${DEFAULTS.requestTimeoutMs})
  --tls-hostname NAME          a name (or address) the generated server certificate also
                               covers, besides localhost, 127.0.0.1 and ::1; repeatable
  --tls-cert FILE              serve HTTPS with this certificate (PEM, chain allowed) …
  --tls-key FILE               … and this key, instead of the local CA's in DIR/tls/
  --accounts FILE              JSON accounts file; without it one account "default"
                               with AccessKeyId "test" / AccessKeySecret "test" exists
  --seed FILE                  import this state document (what export writes) at start,
                               into the account it names; a repeat changes nothing
  --log-level LEVEL            error | warn | info | debug (default info: one JSON line per
                               request on stderr; warn and error leave requests out)
  --throttle-rate N            requests per second per AccessKeyId, per node; past it the key
                               gets Throttling.User; 0 turns throttling off (default ${DEFAULTS.throttle.rate})
  --throttle-burst N           requests a key may send at once (default ${DEFAULTS.throttle.burst})
  --metrics-port PORT          serve Prometheus metrics at /metrics on this port (default off)
  --max-rules-per-group N      ingress + egress rules per group (default ${DEFAULTS.limits.maxRulesPerGroup})
  --max-groups-per-region N    security groups per account and region (default ${DEFAULTS.limits.maxGroupsPerRegion})
  --duplicate-rules MODE       error (InvalidPermission.Duplicate) | ignore (default error)
  --max-nonces-per-key N       signature nonces remembered per AccessKeyId; past it the key
                               gets Throttling.User (default ${DEFAULTS.nonceLimits.maxPerKey})
  --max-nonces N               signature nonces remembered in all (on PostgreSQL: per node);
                               past it requests get Throttling (default ${DEFAULTS.nonceLimits.maxTotal})
  --change-log-retention N     committed transactions the change log keeps for
                               DescribeSecurityGroupChanges cursors (default ${DEFAULTS.changeLogRetention})
  --max-feed-waiters N         DescribeSecurityGroupChanges long polls waiting at once; past
                               it they get Throttling (default ${DEFAULTS.maxFeedWaiters})
  -h, --help                   show this help
`;

class UsageError extends ConfigError {}

function positiveInt(
  name: string,
  v: string | undefined,
  fallback: number,
  min = 1,
  max = 65535 * 1000,
): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} expects an integer >= ${min}, got "${v}"`);
  }
  return Number(v);
}

function storeUrl(v: string | undefined): string | undefined {
  if (v === undefined || v === '' || v === 'sqlite') return undefined;
  if (!/^postgres(ql)?:\/\//.test(v)) {
    throw new UsageError(`--store expects postgres://user:pass@host:port/db or sqlite, got "${v}"`);
  }
  return v;
}

export function parseServeArgs(argv: string[]): { config: AppConfig; logLevel: LogLevel } | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      accounts: { type: 'string' },
      store: { type: 'string' },
      'log-level': { type: 'string' },
      'max-rules-per-group': { type: 'string' },
      'max-groups-per-region': { type: 'string' },
      'duplicate-rules': { type: 'string' },
      'max-nonces-per-key': { type: 'string' },
      'max-nonces': { type: 'string' },
      'change-log-retention': { type: 'string' },
      'max-feed-waiters': { type: 'string' },
      'tls-hostname': { type: 'string', multiple: true },
      'header-timeout': { type: 'string' },
      'request-timeout': { type: 'string' },
      'throttle-rate': { type: 'string' },
      'throttle-burst': { type: 'string' },
      'metrics-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return null;
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'serve')) {
    throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  }
  const logLevel = (values['log-level'] ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`--log-level expects one of ${LOG_LEVELS.join(', ')}`);
  }
  const dup = values['duplicate-rules'] ?? 'error';
  if (dup !== 'error' && dup !== 'ignore') {
    throw new UsageError('--duplicate-rules expects error or ignore');
  }
  const port = positiveInt('port', values.port, DEFAULTS.port, 0, 65535);
  const metricsPort =
    values['metrics-port'] === undefined
      ? undefined
      : positiveInt('metrics-port', values['metrics-port'], 0, 0, 65535);
  return {
    logLevel,
    config: {
      ...DEFAULTS,
      host: values.host ?? DEFAULTS.host,
      port,
      dataDir: values['data-dir'] ?? DEFAULTS.dataDir,
      accountsFile: values.accounts,
      databaseUrl: storeUrl(values.store ?? process.env.DATABASE_URL),
      limits: {
        maxRulesPerGroup: positiveInt(
          'max-rules-per-group',
          values['max-rules-per-group'],
          DEFAULTS.limits.maxRulesPerGroup,
        ),
        maxGroupsPerRegion: positiveInt(
          'max-groups-per-region',
          values['max-groups-per-region'],
          DEFAULTS.limits.maxGroupsPerRegion,
        ),
        duplicateRules: dup,
      },
      changeLogRetention: positiveInt(
        'change-log-retention',
        values['change-log-retention'],
        DEFAULTS.changeLogRetention,
        1,
        1e9,
      ),
      maxFeedWaiters: positiveInt(
        'max-feed-waiters',
        values['max-feed-waiters'],
        DEFAULTS.maxFeedWaiters,
        1,
        1e6,
      ),
      headerTimeoutMs: positiveInt(
        'header-timeout',
        values['header-timeout'],
        DEFAULTS.headerTimeoutMs,
        100,
        600_000,
      ),
      metricsPort,
      accessLog: logLevel === 'info' || logLevel === 'debug',
      seed: values.seed === undefined ? undefined : readSeed(values.seed),
      throttle: {
        rate: positiveInt('throttle-rate', values['throttle-rate'], DEFAULTS.throttle.rate, 0, 1e9),
        burst: positiveInt(
          'throttle-burst',
          values['throttle-burst'],
          DEFAULTS.throttle.burst,
          1,
          1e9,
        ),
      },
      requestTimeoutMs: positiveInt(
        'request-timeout',
        values['request-timeout'],
        DEFAULTS.requestTimeoutMs,
        100,
        3_600_000,
      ),
      tls: {
        hostnames: values['tls-hostname'] ?? [],
        certFile: values['tls-cert'],
        keyFile: values['tls-key'],
      },
      nonceLimits: {
        maxPerKey: positiveInt(
          'max-nonces-per-key',
          values['max-nonces-per-key'],
          DEFAULTS.nonceLimits.maxPerKey,
          1,
          1e9,
        ),
        maxTotal: positiveInt(
          'max-nonces',
          values['max-nonces'],
          DEFAULTS.nonceLimits.maxTotal,
          1,
          1e9,
        ),
      },
    },
  };
}

function readSeed(file: string): { file: string; doc: unknown } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--seed ${file} cannot be read (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    return { file, doc: JSON.parse(text) };
  } catch (e) {
    throw new UsageError(`--seed ${file} is not JSON (${(e as Error).message})`);
  }
}

/** Where the state lives, for the start-up line (a database URL without its password). */
function where(cfg: AppConfig): string {
  if (!cfg.databaseUrl) return `data dir ${cfg.dataDir}`;
  const u = new URL(cfg.databaseUrl);
  u.password = '';
  return `store ${u.toString()}`;
}

async function serve(argv: string[]): Promise<void> {
  const parsed = parseServeArgs(argv);
  if (!parsed) {
    process.stdout.write(USAGE);
    return;
  }
  const log = createLogger(parsed.logLevel);
  const cfg = parsed.config;
  const release = cfg.databaseUrl ? () => {} : claim(cfg.dataDir);
  const app = await startApp(cfg, log).catch((e) => {
    release();
    throw e;
  });
  const keys = app.usesDefaultAccount
    ? ', default account AccessKeyId=test AccessKeySecret=test'
    : `, ${app.accounts.accounts.length} account(s) from ${parsed.config.accountsFile}`;
  const ca = app.tls.caFile ? `, CA certificate ${app.tls.caFile}` : '';
  const metrics = app.metricsPort === undefined ? '' : `, metrics on port ${app.metricsPort}`;
  process.stdout.write(
    `ecs-secgroup listening on ${app.url} and ${app.httpsUrl} (${where(parsed.config)}${keys}${ca}${metrics})\n`,
  );
  if (app.tls.made) {
    log.info(
      `made the TLS ${app.tls.made === 'server' ? 'server certificate' : 'CA and server certificate'} in ${app.tls.ms.toFixed(0)} ms`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received, closing`);
    app.close().then(
      () => {
        release();
        process.exit(0);
      },
      (e) => {
        log.error('error while closing', e);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Started by `npm start` (which execs this process): npm does not pass a signal on when it
  // is killed itself, so its end is taken as the signal to stop.
  if (process.env.npm_lifecycle_event === 'start') {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop('npm exited');
    }, 500).unref();
  }
}

/** Marks the SQLite data directory as this service's (see data-dir.ts). */
function claim(dataDir: string): () => void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch {
    return () => {}; // startApp names the problem
  }
  return claimDataDir(dataDir);
}

const STATE_COMMANDS: Record<string, (argv: string[]) => Promise<void> | void> = {
  export: runExport,
  import: runImport,
  reset: runReset,
};

/** export / import / reset: exit 0 done, 1 refused by the API, 2 usage, file or connection. */
async function stateCommand(name: string, argv: string[]): Promise<void> {
  try {
    await STATE_COMMANDS[name]!(argv);
  } catch (e) {
    const refused = e instanceof RpcError || e instanceof ApiError;
    const known = refused || e instanceof ClientError || e instanceof ConfigError;
    const text = !known && !isParseArgsError(e) ? `failed: ${(e as Error).message}` : null;
    const message =
      e instanceof RpcError
        ? `${e.message} (HTTP ${e.status})`
        : e instanceof ApiError
          ? `${e.code}: ${e.message}`
          : (e as Error).message;
    process.stderr.write(`ecs-secgroup ${name}: ${text ?? message}\n`);
    process.exitCode = refused ? 1 : 2;
  }
}

/** The client commands: they call a running server; exit code 2 on usage or request errors. */
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  check: runCheck,
  analyze: runAnalyze,
};

async function main(argv: string[]): Promise<void> {
  if (argv[0] !== undefined && Object.hasOwn(STATE_COMMANDS, argv[0])) {
    await stateCommand(argv[0], argv.slice(1));
    return;
  }
  const command =
    argv[0] !== undefined && Object.hasOwn(COMMANDS, argv[0]) ? COMMANDS[argv[0]] : undefined;
  if (command !== undefined) {
    try {
      process.exitCode = await command(argv.slice(1));
    } catch (e) {
      process.stderr.write(`ecs-secgroup ${argv[0]}: ${describeCheckError(e)}\n`);
      process.exitCode = 2;
    }
    return;
  }
  if (argv[0] === 'agent' || argv[0] === 'lab') {
    const name = argv[0];
    try {
      const code = await (name === 'agent' ? runAgent : runLab)(argv.slice(1));
      // a stopped agent leaves nothing to wait for (idle keep-alive sockets would delay it)
      if (name === 'agent') process.exit(code);
      process.exitCode = code;
    } catch (e) {
      const known = e instanceof AgentUsageError || e instanceof LabError || isParseArgsError(e);
      process.stderr.write(`ecs-secgroup ${name}: ${describeCheckError(e)}\n`);
      process.exitCode = known ? 2 : 1;
    }
    return;
  }
  try {
    await serve(argv);
  } catch (e) {
    // one line naming the problem, never a stack trace
    if (e instanceof ConfigError || isParseArgsError(e)) {
      process.stderr.write(`ecs-secgroup: ${(e as Error).message} (see ecs-secgroup --help)\n`);
      process.exit(2);
    }
    process.stderr.write(`ecs-secgroup: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

function isParseArgsError(e: unknown): boolean {
  return (
    typeof (e as { code?: unknown }).code === 'string' &&
    String((e as { code: string }).code).startsWith('ERR_PARSE_ARGS')
  );
}

main(process.argv.slice(2));
