/**
 * How the command line reaches the service: the same flags and environment variables for
 * `check`, `agent` and `lab` (--endpoint, --region, --access-key-id, --access-key-secret;
 * ECS_SECGROUP_ENDPOINT, ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET).
 */
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

export interface ConnectionValues {
  endpoint?: string;
  region?: string;
  'access-key-id'?: string;
  'access-key-secret'?: string;
}

export interface ConnectionSettings {
  /** The endpoint given; for the agent a comma-separated list of nodes. */
  endpoint: string;
  regionId: string;
  accessKeyId: string;
  accessKeySecret: string;
}

export function connectionFrom(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionSettings {
  return {
    endpoint: values.endpoint ?? env.ECS_SECGROUP_ENDPOINT ?? 'http://127.0.0.1:8080',
    regionId: values.region ?? 'cn-hangzhou',
    accessKeyId: values['access-key-id'] ?? env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? 'test',
    accessKeySecret: values['access-key-secret'] ?? env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? 'test',
  };
}
