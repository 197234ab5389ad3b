/** A minimal signed RPC client (signature v1, JSON), for the command line. */
import { randomUUID } from 'node:crypto';
import { percentEncode } from './protocol/encode.js';
import { signV1, v1StringToSign } from './protocol/signature.js';

export interface ClientOptions {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  version?: string;
}

export class RpcError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export async function callRpc(
  opts: ClientOptions,
  action: string,
  params: Record<string, string>,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const all: [string, string][] = Object.entries({
    ...params,
    Action: action,
    Version: opts.version ?? '2014-05-26',
    Format: 'JSON',
    AccessKeyId: opts.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    Timestamp: `${new Date().toISOString().slice(0, 19)}Z`,
  });
  all.push(['Signature', signV1(v1StringToSign('GET', all), opts.accessKeySecret)]);
  const query = all.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  const res = await fetch(`${opts.endpoint.replace(/\/+$/, '')}/?${query}`, { signal });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new RpcError(String(body.Code), res.status, String(body.Message));
  return body;
}
