/** Where a lab keeps its state, and the names of what it makes. */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** Labs' state directories (on tmpfs, like /run/netns: gone with a reboot, as the lab is). */
export const LAB_ROOT = process.env.ECS_SECGROUP_LAB_ROOT ?? '/run/ecs-secgroup/lab';

/** The instances' default gateway: an address of the lab's host namespace (on its lo). */
export const GATEWAY = '169.254.1.1';

export const labDir = (vpcId: string) => join(LAB_ROOT, vpcId);

/** The lab's host namespace: the hypervisor its interfaces are plugged into. */
export const hostNetns = (vpcId: string) => `ecssg-${vpcId}`;

/** The host side of an interface's veth pair (interface names have at most 15 characters). */
export function portName(eniId: string): string {
  return `esg${createHash('sha256').update(eniId).digest('hex').slice(0, 12)}`;
}

/** What `lab up` records for the lab's agent and for `lab down`. */
export interface LabConfig {
  readonly vpcId: string;
  readonly hostNetns: string;
  readonly endpoint: string;
  readonly regionId: string;
  readonly accessKeyId: string;
  readonly createdAt: string;
  readonly agentPid?: number;
}

export const VALID_VPC_ID = /^vpc-[0-9a-z]{1,64}$/;
