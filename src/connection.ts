/**
 * How the command line reaches the service: the same flags and environment variables for
 * `check`, `analyze`, `export`, `import`, `agent` and `lab` (--endpoint, --ca,
 * --access-key-id, --access-key-secret and, where resources are regional, --region;
 * ECS_SECGROUP_ENDPOINT, ECS_SECGROUP_CA_FILE, ALIBABA_CLOUD_ACCESS_KEY_ID,
 * ALIBABA_CLOUD_ACCESS_KEY_SECRET).
 */
import { type ClientOptions, defaultCaFile } from './client.js';

/** The flags of a command that talks to a running service (parseArgs options). */
export const CONNECTION_FLAGS = {
  endpoint: { type: 'string' },
  ca: { type: 'string' },
  'access-key-id': { type: 'string' },
  'access-key-secret': { type: 'string' },
} as const;

/** The connection flags and `--region`. */
export const CONNECTION_OPTIONS = { ...CONNECTION_FLAGS, region: { type: 'string' } } as const;

export const CONNECTION_USAGE = `  --endpoint URL            server: host:port, http://… or https://… (default
                            $ECS_SECGROUP_ENDPOINT or 127.0.0.1:8080; no scheme means http://)
  --ca FILE                 CA certificate for https:// (default $ECS_SECGROUP_CA_FILE, else
                            data/tls/ca.pem when it exists)
  --access-key-id ID        default $ALIBABA_CLOUD_ACCESS_KEY_ID or "test"
  --access-key-secret S     default $ALIBABA_CLOUD_ACCESS_KEY_SECRET or "test"
`;

export const REGION_USAGE = `  --region ID               region of the resources (default cn-hangzhou)
`;

export interface ConnectionValues {
  endpoint?: string;
  ca?: string;
  region?: string;
  'access-key-id'?: string;
  'access-key-secret'?: string;
}

/** Where and as whom a command calls, and in which region. */
export interface ConnectionSettings extends ClientOptions {
  /** The endpoint given; for the agent a comma-separated list of nodes. */
  readonly endpoint: string;
  readonly regionId: string;
}

/** The settings of the flags, else of the environment, else the defaults. */
export function connectionFrom(
  values: ConnectionValues,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionSettings {
  return {
    endpoint: values.endpoint ?? env.ECS_SECGROUP_ENDPOINT ?? '127.0.0.1:8080',
    caFile: defaultCaFile(values.ca),
    regionId: values.region ?? 'cn-hangzhou',
    accessKeyId: values['access-key-id'] ?? env.ALIBABA_CLOUD_ACCESS_KEY_ID ?? 'test',
    accessKeySecret: values['access-key-secret'] ?? env.ALIBABA_CLOUD_ACCESS_KEY_SECRET ?? 'test',
  };
}
