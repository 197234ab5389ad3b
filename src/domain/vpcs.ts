/** VPCs: just enough for VPC-type security groups to live in real VPCs. */
import { apiError } from '../errors.js';
import type { Tx } from '../store/store.js';
import { apiTime, newId } from './ids.js';
import type { Vpc } from './types.js';

export async function createVpc(
  tx: Tx,
  input: Omit<Vpc, 'id' | 'creationTime'>,
  now: number,
): Promise<Vpc> {
  const vpc: Vpc = { ...input, id: newId('vpc'), creationTime: apiTime(now) };
  await tx.insertVpc(vpc);
  return vpc;
}

export async function ownVpc(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  vpcId: string,
): Promise<Vpc> {
  const vpc = await tx.getVpc(vpcId);
  if (!vpc || vpc.ownerUid !== ownerUid || vpc.regionId !== regionId) {
    throw apiError('InvalidVpcId.NotFound');
  }
  return vpc;
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
