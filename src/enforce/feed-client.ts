/**
 * Follows DescribeSecurityGroupChanges: long polls from a cursor, and through anything in the
 * way — a lost connection, a restarting server, a node of several that is down (the next one
 * is tried, the cursor is every node's) — it waits and asks again from the same cursor, so no
 * change is missed.
 */
import { callRpc } from '../client.js';
import { type Cursor, type FeedPage, formatCursor } from '../domain/feed.js';
import { decodePage } from '../feed/wire.js';
import type { Logger } from '../log.js';

export interface Connection {
  /** One or more endpoints of the service (several nodes of one database). */
  readonly endpoints: readonly string[];
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly regionId: string;
  /** The CA certificate for https:// endpoints. */
  readonly caFile?: string;
}

export interface PageSource {
  /** The page after `cursor` (a snapshot when null); retries until it has one or `signal` aborts. */
  next(cursor: Cursor | null, signal: AbortSignal): Promise<FeedPage>;
  /** Why the last attempt failed, while pages do not come. */
  readonly lastError?: string | null;
}

export class FeedClient implements PageSource {
  private endpoint = 0;
  /** The last failure, until a page arrives. */
  lastError: string | null = null;

  constructor(
    readonly conn: Connection,
    private readonly log: Logger,
    /** How long each long poll may wait on the server (1-30 s). */
    private readonly waitSeconds = 20,
  ) {
    if (conn.endpoints.length === 0) throw new Error('no endpoint');
  }

  async next(cursor: Cursor | null, signal: AbortSignal): Promise<FeedPage> {
    let backoff = 100;
    for (;;) {
      signal.throwIfAborted();
      const endpoint = this.conn.endpoints[this.endpoint % this.conn.endpoints.length]!;
      const params: Record<string, string> = {
        RegionId: this.conn.regionId,
        WaitSeconds: String(cursor === null ? 0 : this.waitSeconds),
      };
      if (cursor !== null) params.Cursor = formatCursor(cursor);
      try {
        const body = await callRpc(
          {
            endpoint,
            accessKeyId: this.conn.accessKeyId,
            accessKeySecret: this.conn.accessKeySecret,
            caFile: this.conn.caFile,
          },
          'DescribeSecurityGroupChanges',
          params,
          AbortSignal.any([signal, AbortSignal.timeout((this.waitSeconds + 15) * 1000)]),
        );
        this.lastError = null;
        return decodePage(body);
      } catch (e) {
        signal.throwIfAborted();
        const msg = `${endpoint}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`;
        if (this.lastError !== msg) this.log.warn(`change feed: ${msg}; retrying`);
        this.lastError = msg;
        this.endpoint++;
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
