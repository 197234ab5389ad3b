/** The RPC pipeline: authenticate, claim the nonce, dispatch, render. */
import { randomUUID } from 'node:crypto';
import { apiError, isApiError } from '../errors.js';
import { type NonceCache, TIMESTAMP_SKEW_MS } from '../nonces/window.js';
import { authenticate, type Credential, guessFormat, type RawRequest } from './authenticate.js';
import { type Format, type Rendered, renderError, renderSuccess } from './render.js';
import type { Throttle } from './throttle.js';

export interface ApiCall<P> {
  action: string;
  version: string;
  requestId: string;
  accessKeyId: string;
  principal: P;
  params: ReadonlyMap<string, string>;
}

/**
 * An action's result: the response body without `RequestId`, or — for a replayed
 * idempotent call — with the `RequestId` of the first response, which is then kept.
 */
export type ActionResult = Record<string, unknown>;
export type ActionHandler<P> = (call: ApiCall<P>) => Promise<ActionResult>;

export interface ActionTable<P> {
  /** Whether `version` is an API version served here. */
  hasVersion(version: string): boolean;
  lookup(version: string, action: string): ActionHandler<P> | undefined;
}

export interface ProtocolOptions<P> {
  credentials(accessKeyId: string): Credential<P> | undefined;
  nonces: NonceCache;
  actions: ActionTable<P>;
  hostId: string;
  skewMs?: number;
  now?: () => number;
  /** Called with every error that is not a catalogued ApiError (rendered as InternalError). */
  onInternalError?(err: unknown, action: string | undefined): void;
  /** Per-key throttling, after authentication and before anything else. */
  throttle?: Throttle;
  /** The principal's id, for the access log. */
  principalId?(p: P): string;
}

/** A rendered answer and what the access log and the metrics record of its call. */
export interface Handled extends Rendered {
  requestId: string;
  action: string;
  version: string;
  accessKeyId: string;
  uid: string;
  /** The error code, or '' for a success. */
  code: string;
}

export function newRequestId(): string {
  return randomUUID().toUpperCase();
}

export function createProtocol<P>(opts: ProtocolOptions<P>) {
  const skewMs = opts.skewMs ?? TIMESTAMP_SKEW_MS;
  const now = opts.now ?? Date.now;
  const checkAction = (version: string, action: string) => {
    if (!opts.actions.hasVersion(version)) throw apiError('InvalidVersion');
    if (!opts.actions.lookup(version, action)) throw apiError('InvalidAction.NotFound');
  };

  return async function handle(req: RawRequest): Promise<Handled> {
    const requestId = newRequestId();
    let format: Format | undefined; // known once authenticated; guessed for earlier errors
    let action: string | undefined;
    const who = { action: '', version: '', accessKeyId: '', uid: '' };
    const done = (r: Rendered, code: string, id = requestId): Handled => ({
      status: r.status,
      contentType: r.contentType,
      body: r.body,
      action: who.action,
      version: who.version,
      accessKeyId: who.accessKeyId,
      uid: who.uid,
      requestId: id,
      code,
    });
    try {
      const nowMs = now();
      const call = authenticate(req, {
        credentials: opts.credentials,
        checkAction,
        skewMs,
        nowMs,
      });
      format = call.format;
      action = call.action;
      who.action = call.action;
      who.version = call.version;
      who.accessKeyId = call.accessKeyId;
      who.uid = opts.principalId?.(call.principal) ?? '';
      if (opts.throttle && !opts.throttle.take(call.accessKeyId, nowMs)) {
        throw apiError('Throttling.User');
      }
      const claimed = await opts.nonces.claim({
        accessKeyId: call.accessKeyId,
        nonce: call.nonce,
        expiresAtMs: call.timestampMs + skewMs,
        nowMs,
      });
      if (claimed === 'used') throw apiError('SignatureNonceUsed');
      if (claimed === 'key-limit') throw apiError('Throttling.User#nonces');
      if (claimed === 'limit') throw apiError('Throttling#nonces');
      const run = opts.actions.lookup(call.version, call.action)!;
      const result = await run({
        action: call.action,
        version: call.version,
        requestId,
        accessKeyId: call.accessKeyId,
        principal: call.principal,
        params: call.params,
      });
      const id = typeof result.RequestId === 'string' ? result.RequestId : requestId;
      return done(renderSuccess(call.action, id, result, format), '', id);
    } catch (err) {
      format ??= guessFormat(req);
      if (isApiError(err)) {
        return done(renderError(err, requestId, opts.hostId, format), err.code);
      }
      opts.onInternalError?.(err, action);
      const e = apiError('InternalError');
      return done(renderError(e, requestId, opts.hostId, format), e.code);
    }
  };
}

export type Protocol = ReturnType<typeof createProtocol>;
