/**
 * Tags and resource groups of the resources that have them: security groups and network
 * interfaces (ECS), VPCs and vSwitches (VPC). A resource holds at most 20 tags, keys unique;
 * tagging with a key it has replaces that tag's value.
 */
import { apiError } from '../errors.js';
import { ownInterface, ownVSwitch } from './network.js';
import { ownGroup } from './rules.js';
import type { Tx } from './store.js';
import type { Tag } from './types.js';
import { ownVpc } from './vpcs.js';

export const MAX_TAGS_PER_RESOURCE = 20;

/** The resource types as the APIs name them (ECS lower-case, VPC upper-case). */
export type TaggableKind = 'securitygroup' | 'eni' | 'vpc' | 'vswitch';

/** What tag and resource-group actions see of a resource. */
export interface Taggable {
  readonly kind: TaggableKind;
  readonly id: string;
  readonly tags: readonly Tag[];
  readonly resourceGroupId: string;
}

interface Handle extends Taggable {
  save(tags: readonly Tag[], resourceGroupId: string): Promise<void>;
}

/** The caller's resource of `kind`, locked for a change; InvalidResourceId.NotFound if none. */
async function resource(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  kind: TaggableKind,
  id: string,
): Promise<Handle> {
  try {
    switch (kind) {
      case 'securitygroup': {
        const g = await ownGroup(tx, ownerUid, regionId, id, true);
        return {
          ...g,
          kind,
          save: (tags, resourceGroupId) => tx.updateGroup({ ...g, tags, resourceGroupId }),
        };
      }
      case 'eni': {
        const e = await ownInterface(tx, ownerUid, regionId, id, true);
        return {
          ...e,
          kind,
          save: (tags, resourceGroupId) => tx.updateInterface({ ...e, tags, resourceGroupId }),
        };
      }
      case 'vpc': {
        await tx.lock(`vpc:${id}`);
        const v = await ownVpc(tx, ownerUid, regionId, id);
        return {
          ...v,
          kind,
          save: (tags, resourceGroupId) => tx.updateVpc({ ...v, tags, resourceGroupId }),
        };
      }
      case 'vswitch': {
        await tx.lock(`vswitch:${id}`);
        const v = await ownVSwitch(tx, ownerUid, regionId, id);
        return {
          ...v,
          kind,
          save: (tags, resourceGroupId) => tx.updateVSwitch({ ...v, tags, resourceGroupId }),
        };
      }
    }
  } catch (e) {
    if ((e as { status?: number }).status === 404) throw apiError('InvalidResourceId.NotFound', id);
    throw e;
  }
}

/** Adds (or re-values) `tags` on every resource; all or nothing. */
export async function tagResources(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  kind: TaggableKind,
  ids: readonly string[],
  tags: readonly Tag[],
): Promise<void> {
  const handles = [];
  for (const id of ids) handles.push(await resource(tx, ownerUid, regionId, kind, id));
  for (const h of handles) {
    const merged = h.tags.filter((t) => !tags.some((n) => n.key === t.key)).concat(tags);
    if (merged.length > MAX_TAGS_PER_RESOURCE) {
      throw apiError('OperationDenied.QuotaExceed', h.id, MAX_TAGS_PER_RESOURCE);
    }
    await h.save(merged, h.resourceGroupId);
  }
}

/** Removes the tags with `keys` (every tag with `'all'`); keys a resource lacks are ignored. */
export async function untagResources(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  kind: TaggableKind,
  ids: readonly string[],
  keys: readonly string[] | 'all',
): Promise<void> {
  const handles = [];
  for (const id of ids) handles.push(await resource(tx, ownerUid, regionId, kind, id));
  for (const h of handles) {
    const left = keys === 'all' ? [] : h.tags.filter((t) => !keys.includes(t.key));
    if (left.length !== h.tags.length) await h.save(left, h.resourceGroupId);
  }
}

/** Moves a resource into a resource group (there is no resource directory: any id is taken). */
export async function moveToResourceGroup(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  kind: TaggableKind,
  id: string,
  resourceGroupId: string,
): Promise<void> {
  const h = await resource(tx, ownerUid, regionId, kind, id);
  if (h.resourceGroupId !== resourceGroupId) await h.save(h.tags, resourceGroupId);
}

/** Every taggable resource of the caller in the region, by kind. */
export async function listTaggable(
  tx: Tx,
  ownerUid: string,
  regionId: string,
  kind: TaggableKind,
): Promise<Taggable[]> {
  const of = <T extends { id: string; tags: readonly Tag[]; resourceGroupId: string }>(xs: T[]) =>
    xs.map((x) => ({ kind, id: x.id, tags: x.tags, resourceGroupId: x.resourceGroupId }));
  switch (kind) {
    case 'securitygroup':
      return of(await tx.listGroups(ownerUid, regionId));
    case 'eni':
      return of(await tx.listInterfacesOf(ownerUid, regionId));
    case 'vpc':
      return of(await tx.listVpcs(ownerUid, regionId));
    case 'vswitch':
      return of(await tx.listVSwitchesOf(ownerUid, regionId));
  }
}

/** Whether `t` carries every filter tag (a filter without value matches any value). */
export function hasTags(t: { tags: readonly Tag[] }, filter: readonly Tag[]): boolean {
  return filter.every((f) =>
    t.tags.some((x) => x.key === f.key && (f.value === '' || x.value === f.value)),
  );
}
