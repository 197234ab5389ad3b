/** Security groups: creation (quota, VPC), deletion (dependencies), attributes, references. */
import { apiError } from '../errors.js';
import { apiTime, type Fixed, newId } from './ids.js';
import type { DomainContext } from './rules.js';
import { ownGroup } from './rules.js';
import type { Tx } from './store.js';
import type { GroupType, InnerAccessPolicy, SecurityGroup, Tag } from './types.js';

export interface NewGroupInput {
  ownerUid: string;
  regionId: string;
  name: string;
  description: string;
  vpcId: string | null;
  type: GroupType;
  resourceGroupId: string;
  tags: Tag[];
  /** Default: Accept for normal groups, Drop for enterprise ones. */
  innerAccessPolicy?: InnerAccessPolicy;
}

export async function createGroup(
  tx: Tx,
  ctx: DomainContext,
  input: NewGroupInput,
  fixed?: Fixed,
): Promise<SecurityGroup> {
  if (input.vpcId !== null) {
    await tx.lock(`vpc:${input.vpcId}`);
    const vpc = await tx.getVpc(input.vpcId);
    if (!vpc || vpc.ownerUid !== input.ownerUid || vpc.regionId !== input.regionId) {
      throw apiError('InvalidVpcId.NotFound');
    }
  }
  const count = await tx.lockGroupQuota(input.ownerUid, input.regionId);
  if (count >= ctx.maxGroupsPerRegion) throw apiError('QuotaExceed.SecurityGroup');
  if (input.type === 'enterprise' && input.innerAccessPolicy === 'Accept') {
    throw apiError('InvalidInnerAccessPolicy.ValueNotSupported');
  }
  const group: SecurityGroup = {
    ...input,
    id: fixed?.id ?? newId('sg'),
    innerAccessPolicy: input.innerAccessPolicy ?? (input.type === 'enterprise' ? 'Drop' : 'Accept'),
    creationTime: fixed?.time ?? apiTime(ctx.now),
  };
  await tx.insertGroup(group);
  return group;
}

/** Deletes a group and its rules; refused while other groups' rules or interfaces use it. */
export async function deleteGroup(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  groupId: string,
): Promise<void> {
  const group = await ownGroup(tx, ownerUid, regionId, groupId, true);
  const referencing = (await tx.listRulesReferencing(group.id)).filter(
    (r) => r.securityGroupId !== group.id,
  );
  if (referencing.length > 0 || (await tx.countInterfacesInGroup(group.id)) > 0) {
    throw apiError('DependencyViolation');
  }
  await tx.deleteGroup(group.id);
}

export async function modifyGroupAttribute(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  groupId: string,
  change: { name?: string; description?: string },
): Promise<void> {
  const group = await ownGroup(tx, ownerUid, regionId, groupId, true);
  await tx.updateGroup({
    ...group,
    name: change.name ?? group.name,
    description: change.description ?? group.description,
  });
}

export async function modifyGroupPolicy(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  groupId: string,
  policy: InnerAccessPolicy,
): Promise<void> {
  const group = await ownGroup(tx, ownerUid, regionId, groupId, true);
  if (group.type === 'enterprise' && policy === 'Accept') {
    throw apiError('InvalidInnerAccessPolicy.ValueNotSupported');
  }
  await tx.updateGroup({ ...group, innerAccessPolicy: policy });
}

/** For each of the caller's groups: the groups (and their owners) whose rules name it. */
export async function groupReferences(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  groupIds: readonly string[],
): Promise<{ groupId: string; referencing: { groupId: string; ownerUid: string }[] }[]> {
  const out = [];
  for (const id of groupIds) {
    const group = await ownGroup(tx, ownerUid, regionId, id);
    const seen = new Map<string, string>();
    for (const rule of await tx.listRulesReferencing(group.id)) {
      if (rule.securityGroupId === group.id || seen.has(rule.securityGroupId)) continue;
      const referrer = await tx.getGroup(rule.securityGroupId);
      if (referrer) seen.set(referrer.id, referrer.ownerUid);
    }
    out.push({
      groupId: group.id,
      referencing: [...seen].map(([groupId, uid]) => ({ groupId, ownerUid: uid })),
    });
  }
  return out;
}
