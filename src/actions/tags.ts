/**
 * Tags and resource groups, as both products name them: ECS `TagResources`,
 * `UntagResources`, `ListTagResources`, `DescribeTags`, `JoinResourceGroup` (security groups
 * and network interfaces); VPC `TagResources`, `UnTagResources`, `ListTagResources`,
 * `MoveResourceGroup` (VPCs and vSwitches).
 */
import {
  hasTags,
  listTaggable,
  moveToResourceGroup,
  type TaggableKind,
  tagResources,
  untagResources,
} from '../domain/tags.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS, VPC } from './context.js';
import { parseResourceGroupId, parseTagFilter, parseTags } from './fields.js';
import { mutate } from './idempotency.js';
import { numberedPage, tokenPage } from './paging.js';
import { Params } from './params.js';

interface Product {
  version: string;
  /** Wire name → kind; `caseInsensitive` for the VPC product. */
  types: ReadonlyMap<string, TaggableKind>;
  caseInsensitive: boolean;
  tagProduct: 'ecs' | 'vpc';
  /** The ResourceType a ListTagResources row carries for a kind. */
  wireType: Record<TaggableKind, string>;
}

const ECS_TAGS: Product = {
  version: ECS,
  types: new Map([
    ['securitygroup', 'securitygroup'],
    ['eni', 'eni'],
  ]),
  caseInsensitive: false,
  tagProduct: 'ecs',
  wireType: { securitygroup: 'securitygroup', eni: 'eni', vpc: '', vswitch: '' },
};

const VPC_TAGS: Product = {
  version: VPC,
  types: new Map([
    ['vpc', 'vpc'],
    ['vswitch', 'vswitch'],
  ]),
  caseInsensitive: true,
  tagProduct: 'vpc',
  wireType: { securitygroup: '', eni: '', vpc: 'VPC', vswitch: 'VSWITCH' },
};

/** `ResourceType` of a tag action: one the product tags here, or InvalidResourceType.NotFound. */
function resourceType(p: Params, product: Product, name = 'ResourceType'): TaggableKind {
  const v = p.req(name);
  const kind = product.types.get(product.caseInsensitive ? v.toLowerCase() : v);
  if (kind === undefined) throw apiError('InvalidResourceType.NotFound');
  return kind;
}

const resourceIds = (p: Params) => p.list('ResourceId', 50, 'NumberExceed.ResourceIds');

function tagAction(name: string, product: Product): ActionDef {
  return {
    version: product.version,
    name,
    async run(svc, call) {
      const p = new Params(call.params);
      const regionId = p.region();
      const kind = resourceType(p, product);
      const ids = resourceIds(p);
      if (ids.length === 0) throw apiError('MissingParameter', 'ResourceId.1');
      const tags = parseTags(p, product.tagProduct);
      if (tags.length === 0) throw apiError('MissingParameter', 'Tag.1.Key');
      return mutate(svc, call, p, async (tx) => {
        await tagResources(tx, call.principal.uid, regionId, kind, ids, tags);
        return {};
      });
    },
  };
}

function untagAction(name: string, product: Product): ActionDef {
  return {
    version: product.version,
    name,
    async run(svc, call) {
      const p = new Params(call.params);
      const regionId = p.region();
      const kind = resourceType(p, product);
      const ids = resourceIds(p);
      if (ids.length === 0) throw apiError('MissingParameter', 'ResourceId.1');
      const keys = p.list('TagKey', 20, 'NumberExceed.Tags');
      // All applies only when no TagKey.N is given; neither removes nothing.
      const which = keys.length > 0 ? keys : p.bool('All') === true ? 'all' : [];
      return mutate(svc, call, p, async (tx) => {
        await untagResources(tx, call.principal.uid, regionId, kind, ids, which);
        return {};
      });
    },
  };
}

function listAction(product: Product): ActionDef {
  return {
    version: product.version,
    name: 'ListTagResources',
    async run(svc, call) {
      const p = new Params(call.params);
      const regionId = p.region();
      const kind = resourceType(p, product);
      const ids = resourceIds(p);
      const filter = parseTagFilter(p);
      if (ids.length === 0 && filter.length === 0) {
        throw apiError('MissingParameter.TagOrResourceId');
      }
      return svc.store.read(async (tx) => {
        const rows = [];
        for (const r of await listTaggable(tx, call.principal.uid, regionId, kind)) {
          if ((ids.length > 0 && !ids.includes(r.id)) || !hasTags(r, filter)) continue;
          for (const t of r.tags) {
            rows.push({
              ResourceId: r.id,
              ResourceType: product.wireType[kind],
              TagKey: t.key,
              TagValue: t.value,
            });
          }
        }
        const page = tokenPage(rows, p, 50, 50);
        return { NextToken: page.nextToken, TagResources: { TagResource: page.items } };
      });
    },
  };
}

export const tagResourcesEcs = tagAction('TagResources', ECS_TAGS);
export const untagResourcesEcs = untagAction('UntagResources', ECS_TAGS);
export const listTagResourcesEcs = listAction(ECS_TAGS);
export const tagResourcesVpc = tagAction('TagResources', VPC_TAGS);
export const untagResourcesVpc = untagAction('UnTagResources', VPC_TAGS);
export const listTagResourcesVpc = listAction(VPC_TAGS);

const COUNT_FIELDS = {
  Ddh: 0,
  Disk: 0,
  Eni: 0,
  Image: 0,
  Instance: 0,
  KeyPair: 0,
  LaunchTemplate: 0,
  ReservedInstance: 0,
  Securitygroup: 0,
  Snapshot: 0,
  SnapshotPolicy: 0,
  Volume: 0,
};

/** ECS DescribeTags: the distinct tags of security groups and interfaces, with counts. */
export const describeTags: ActionDef = {
  version: ECS,
  name: 'DescribeTags',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const kinds: TaggableKind[] = p.has('ResourceType')
      ? [resourceType(p, ECS_TAGS)]
      : ['securitygroup', 'eni'];
    const resourceId = p.opt('ResourceId');
    const filter = parseTagFilter(p);
    return svc.store.read(async (tx) => {
      const counts = new Map<string, { key: string; value: string; sg: number; eni: number }>();
      for (const kind of kinds) {
        for (const r of await listTaggable(tx, call.principal.uid, regionId, kind)) {
          if (resourceId !== undefined && r.id !== resourceId) continue;
          for (const t of r.tags) {
            // a filter with a key only selects every value of that key
            const selected =
              filter.length === 0 ||
              filter.some((f) => f.key === t.key && (f.value === '' || f.value === t.value));
            if (!selected) continue;
            const k = `${t.key}\n${t.value}`;
            const c = counts.get(k) ?? { key: t.key, value: t.value, sg: 0, eni: 0 };
            if (kind === 'securitygroup') c.sg++;
            else c.eni++;
            counts.set(k, c);
          }
        }
      }
      const all = [...counts.values()].sort((a, b) =>
        a.key === b.key ? (a.value < b.value ? -1 : 1) : a.key < b.key ? -1 : 1,
      );
      const page = numberedPage(all, p, 100, 50);

      return {
        TotalCount: all.length,
        PageNumber: page.pageNumber,
        PageSize: page.pageSize,
        Tags: {
          Tag: page.items.map((c) => ({
            TagKey: c.key,
            TagValue: c.value,
            ResourceTypeCount: { ...COUNT_FIELDS, Securitygroup: c.sg, Eni: c.eni },
          })),
        },
      };
    });
  },
};

/** ECS JoinResourceGroup: a security group or network interface into a resource group. */
export const joinResourceGroup: ActionDef = {
  version: ECS,
  name: 'JoinResourceGroup',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('ResourceId');
    const kind = resourceType(p, ECS_TAGS);
    const group = parseResourceGroupId(p);
    if (group === undefined) throw apiError('MissingParameter', 'ResourceGroupId');
    return mutate(svc, call, p, async (tx) => {
      await moveToResourceGroup(tx, call.principal.uid, regionId, kind, id, group);
      return {};
    });
  },
};

/** VPC MoveResourceGroup: a VPC into a resource group (its system route table goes along). */
export const moveResourceGroup: ActionDef = {
  version: VPC,
  name: 'MoveResourceGroup',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const id = p.req('ResourceId');
    if (p.req('ResourceType').toLowerCase() !== 'vpc')
      throw apiError('InvalidResourceType.NotFound');
    const group = parseResourceGroupId(p, 'NewResourceGroupId');
    if (group === undefined) throw apiError('MissingParameter', 'NewResourceGroupId');
    return mutate(svc, call, p, async (tx) => {
      await moveToResourceGroup(tx, call.principal.uid, regionId, 'vpc', id, group);
      return {};
    });
  },
};
