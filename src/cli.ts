#!/usr/bin/env node
/** The command line: `ecs-secgroup [serve] [options]`. */
import { parseArgs } from 'node:util';
import { type AppConfig, DEFAULTS, startApp } from './app.js';
import { describeCheckError, runCheck } from './check.js';
import { AccountsFileError } from './domain/accounts.js';
import { AgentUsageError, runAgent } from './enforce/cli.js';
import { LabError, runLab } from './lab/cli.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './log.js';
import { TlsConfigError } from './tls.js';

const USAGE = `Usage: ecs-secgroup [serve] [options]
       ecs-secgroup check --from A --to B --proto P [--port N] (see: ecs-secgroup check --help)
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
  --tls-hostname NAME          a name (or address) the generated server certificate also
                               covers, besides localhost, 127.0.0.1 and ::1; repeatable
  --tls-cert FILE              serve HTTPS with this certificate (PEM, chain allowed) …
  --tls-key FILE               … and this key, instead of the local CA's in DIR/tls/
  --accounts FILE              JSON accounts file; without it one account "default"
                               with AccessKeyId "test" / AccessKeySecret "test" exists
  --log-level LEVEL            error | warn | info | debug (default info)
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

class UsageError extends Error {}

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
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
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
  const port = positiveInt('port', values.port, DEFAULTS.port, 0);
  if (port > 65535) throw new UsageError('--port expects 0-65535');
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
  const app = await startApp(parsed.config, log);
  const keys = app.usesDefaultAccount
    ? ', default account AccessKeyId=test AccessKeySecret=test'
    : `, ${app.accounts.accounts.length} account(s) from ${parsed.config.accountsFile}`;
  const ca = app.tls.caFile ? `, CA certificate ${app.tls.caFile}` : '';
  process.stdout.write(
    `ecs-secgroup listening on ${app.url} and ${app.httpsUrl} (${where(parsed.config)}${keys}${ca})\n`,
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
      () => process.exit(0),
      (e) => {
        log.error('error while closing', e);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'check') {
    try {
      process.exitCode = await runCheck(argv.slice(1));
    } catch (e) {
      process.stderr.write(`ecs-secgroup check: ${describeCheckError(e)}\n`);
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
    if (
      e instanceof UsageError ||
      e instanceof AccountsFileError ||
      e instanceof TlsConfigError ||
      isParseArgsError(e)
    ) {
      process.stderr.write(`ecs-secgroup: ${(e as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`ecs-secgroup: cannot listen: ${err.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

function isParseArgsError(e: unknown): boolean {
  return (
    typeof (e as { code?: unknown }).code === 'string' &&
    String((e as { code: string }).code).startsWith('ERR_PARSE_ARGS')
  );
}

main(process.argv.slice(2));
