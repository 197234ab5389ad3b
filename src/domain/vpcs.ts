/** VPCs: where VPC-type security groups, vSwitches and interfaces live. */
import { apiError } from '../errors.js';
import { ipv4Contains } from './cidr.js';
import { apiTime, type Fixed, newId } from './ids.js';
import type { Tx } from './store.js';
import type { Vpc } from './types.js';

/** The ids of a VPC's vRouter and system route table, derived from its own. */
export const routerIdOf = (vpcId: string) => vpcId.replace(/^vpc-/, 'vrt-');
export const routeTableIdOf = (vpcId: string) => vpcId.replace(/^vpc-/, 'vtb-');

export async function createVpc(
  tx: Tx,
  input: Omit<Vpc, 'id' | 'creationTime'>,
  now: number,
  fixed?: Fixed,
): Promise<Vpc> {
  const vpc: Vpc = {
    ...input,
    id: fixed?.id ?? newId('vpc'),
    creationTime: fixed?.time ?? apiTime(now),
  };
  await tx.insertVpc(vpc);
  return vpc;
}

/** The caller's VPC (in `regionId` when given), or InvalidVpcId.NotFound. */
export async function ownVpc(
  tx: Tx,
  ownerUid: string,
  regionId: string | undefined,
  vpcId: string,
): Promise<Vpc> {
  const vpc = await tx.getVpc(vpcId);
  if (!vpc || vpc.ownerUid !== ownerUid || (regionId !== undefined && vpc.regionId !== regionId)) {
    throw apiError('InvalidVpcId.NotFound');
  }
  return vpc;
}

export async function modifyVpc(
  tx: Tx,
  ownerUid: string,
  regionId: string | undefined,
  vpcId: string,
  change: { name?: string; description?: string; cidrBlock?: string },
): Promise<void> {
  await tx.lock(`vpc:${vpcId}`); // vSwitches are checked against the new block
  const vpc = await ownVpc(tx, ownerUid, regionId, vpcId);
  if (change.cidrBlock !== undefined && change.cidrBlock !== vpc.cidrBlock) {
    for (const v of await tx.listVSwitches(vpc.id)) {
      if (!ipv4Contains(change.cidrBlock, v.cidrBlock)) {
        throw apiError('InvalidCidrBlock.VSwitchOutside', v.id, v.cidrBlock);
      }
    }
  }
  await tx.updateVpc({
    ...vpc,
    name: change.name ?? vpc.name,
    description: change.description ?? vpc.description,
    cidrBlock: change.cidrBlock ?? vpc.cidrBlock,
  });
}

/** Deletes a VPC; refused while security groups or vSwitches are in it. */
export async function deleteVpc(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  vpcId: string,
): Promise<void> {
  await tx.lock(`vpc:${vpcId}`);
  const vpc = await ownVpc(tx, ownerUid, regionId, vpcId);
  if ((await tx.countGroupsInVpc(vpc.id)) > 0) throw apiError('DependencyViolation.SecurityGroup');
  if ((await tx.listVSwitches(vpc.id)).length > 0) throw apiError('DependencyViolation.VSwitch');
  await tx.deleteVpc(vpc.id);
}
