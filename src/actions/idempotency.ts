/** ClientToken idempotency and the domain context of a call. */
import { createHash } from 'node:crypto';
import type { DomainContext } from '../domain/rules.js';
import type { Tx } from '../domain/store.js';
import { apiError } from '../errors.js';
import type { Call, DomainServices, Services } from './context.js';
import type { Params } from './params.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export function domainContext(svc: DomainServices): DomainContext {
  return { accounts: svc.accounts, ...svc.limits, now: svc.now() };
}

function fingerprint(call: Call): string {
  const params = [...call.params].filter(([k]) => k !== 'ClientToken').sort();
  return createHash('sha256')
    .update(JSON.stringify([call.action, params]))
    .digest('hex');
}

/**
 * Runs a mutating action in one transaction. With a ClientToken (≤ 64 ASCII characters),
 * a repeat of the same call by the same account within 24 hours returns the first
 * response (RequestId included) and changes nothing; the same token with other
 * parameters is `IdempotentParameterMismatch`.
 */
export async function mutate(
  svc: Services,
  call: Call,
  p: Params,
  fn: (tx: Tx) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const token = p.opt('ClientToken');
  if (token === undefined) return svc.store.write(fn);
  if (!/^[\x20-\x7e]{1,64}$/.test(token)) throw apiError('InvalidParameter', 'ClientToken');
  const fp = fingerprint(call);
  const owner = call.principal.uid;
  return svc.store.write(async (tx) => {
    const now = svc.now();
    await tx.lock(`client-token:${owner}:${token}`);
    const prior = await tx.getIdempotency(owner, token, now);
    if (prior) {
      if (prior.action !== call.action || prior.fingerprint !== fp) {
        throw apiError('IdempotentParameterMismatch');
      }
      return JSON.parse(prior.response) as Record<string, unknown>;
    }
    const response = { RequestId: call.requestId, ...(await fn(tx)) };
    await tx.putIdempotency(
      owner,
      token,
      { action: call.action, fingerprint: fp, response: JSON.stringify(response) },
      now + DAY_MS,
    );
    return response;
  });
}
