/**
 * Logging: one JSON line per event on stderr through pino — the service's own events, and an
 * access-log line per request at `info`.
 */
import { pino } from 'pino';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

/** One request as the access log and the metrics see it. */
export interface RequestRecord {
  requestId: string;
  /** Empty when the request never named an action the service could read. */
  action: string;
  version: string;
  /** The account's uid and key, once authenticated. */
  uid: string;
  accessKeyId: string;
  status: number;
  /** The error code, or '' for a success. */
  code: string;
  latencyMs: number;
  remote: string;
  /** Request body bytes. */
  bytes: number;
}

export interface Logger {
  error(msg: string, extra?: unknown): void;
  warn(msg: string, extra?: unknown): void;
  info(msg: string, extra?: unknown): void;
  debug(msg: string, extra?: unknown): void;
  /** The access-log line of a request (at info). */
  access(r: RequestRecord): void;
  /** Writes what is buffered (before the process exits). */
  flush(): void;
}

/** `write` replaces stderr (tests, benchmarks). */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const destination = write ? { write } : pino.destination({ dest: 2, sync: false });
  const p = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const at =
    (l: LogLevel) =>
    (msg: string, extra?: unknown): void => {
      if (extra === undefined) p[l](msg);
      else if (extra instanceof Error) p[l]({ err: extra }, msg);
      else p[l]({ detail: extra }, msg);
    };
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    access: (r) => p.info(r, 'request'),
    flush: () => {
      if ('flushSync' in destination) {
        try {
          destination.flushSync();
        } catch {
          // nothing written yet
        }
      }
    },
  };
}
