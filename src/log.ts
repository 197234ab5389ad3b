/** A minimal leveled logger writing one line per event to stderr. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
export const LOG_LEVELS = Object.keys(ORDER) as LogLevel[];

export interface Logger {
  error(msg: string, extra?: unknown): void;
  warn(msg: string, extra?: unknown): void;
  info(msg: string, extra?: unknown): void;
  debug(msg: string, extra?: unknown): void;
}

export function createLogger(
  level: LogLevel,
  write = (line: string) => process.stderr.write(line),
): Logger {
  const at = (l: LogLevel) => (msg: string, extra?: unknown) => {
    if (ORDER[l] > ORDER[level]) return;
    const tail =
      extra === undefined
        ? ''
        : ` ${extra instanceof Error ? (extra.stack ?? extra.message) : JSON.stringify(extra)}`;
    write(`${new Date().toISOString()} ${l.toUpperCase()} ${msg}${tail}\n`);
  };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
