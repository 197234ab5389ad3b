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
  const res = await fetch(`${opts.endpoint.replace(/\/+$/, '')}/?${query}`);
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new RpcError(String(body.Code), res.status, String(body.Message));
  return body;
}

/** The connection flags of the client commands (check, analyze). */
export const CONNECTION_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'access-key-id': { type: 'string' },
  'access-key-secret': { type: 'string' },
} as const;

export const CONNECTION_USAGE = `  --endpoint URL            server (default $ECS_SECGROUP_ENDPOINT or http://127.0.0.1:8080)
  --region ID               region of the interfaces (default cn-hangzhou)
  --access-key-id ID        default $ALIBABA_CLOUD_ACCESS_KEY_ID or "test"
  --access-key-secret S     default $ALIBABA_CLOUD_ACCESS_KEY_SECRET or "test"
`;

/** Where and as whom a client command calls: the flags, else the environment, else defaults. */
export function connection(values: {
  endpoint?: string;
  region?: string;
  'access-key-id'?: string;
  'access-key-secret'?: string;
}): { client: ClientOptions; regionId: string } {
  return {
    client: {
      endpoint: values.endpoint ?? process.env.ECS_SECGROUP_ENDPOINT ?? 'http://127.0.0.1:8080',
      accessKeyId: values['access-key-id'] ?? process.env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? 'test',
      accessKeySecret:
        values['access-key-secret'] ?? process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? 'test',
    },
    regionId: values.region ?? 'cn-hangzhou',
  };
}
