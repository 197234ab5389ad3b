import { hasTags } from '../domain/tags.js';
import type { SecurityGroup } from '../domain/types.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS } from './context.js';
import { parseTagFilter } from './fields.js';
import { numberedPage, tokenPage } from './paging.js';
import { Params } from './params.js';
import { groupView } from './views.js';

function parseIds(p: Params): Set<string> | undefined {
  const raw = p.opt('SecurityGroupIds');
  if (raw === undefined) return undefined;
  let ids: unknown;
  try {
    ids = JSON.parse(raw);
  } catch {
    throw apiError('InvalidParameter', 'SecurityGroupIds');
  }
  if (!Array.isArray(ids) || ids.length > 100 || ids.some((x) => typeof x !== 'string')) {
    throw apiError('InvalidParameter', 'SecurityGroupIds');
  }
  return new Set(ids as string[]);
}

export const describeSecurityGroups: ActionDef = {
  version: ECS,
  name: 'DescribeSecurityGroups',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const ids = parseIds(p);
    const id = p.opt('SecurityGroupId');
    const vpcId = p.opt('VpcId');
    const network = p.oneOf('NetworkType', ['vpc', 'classic'], 'InvalidParameter');
    const name = p.opt('SecurityGroupName');
    const fuzzy = p.bool('FuzzyQuery') ?? false;
    const type = p.oneOf('SecurityGroupType', ['normal', 'enterprise'], 'InvalidParameter');
    const resourceGroupId = p.opt('ResourceGroupId');
    const tags = parseTagFilter(p);
    const byToken = p.has('MaxResults') || p.has('NextToken');

    const match = (g: SecurityGroup) =>
      (!ids || ids.has(g.id)) &&
      (id === undefined || g.id === id) &&
      (vpcId === undefined || g.vpcId === vpcId) &&
      (network === undefined || (network === 'vpc') === (g.vpcId !== null)) &&
      (name === undefined || (fuzzy ? g.name.includes(name) : g.name === name)) &&
      (type === undefined || g.type === type) &&
      (resourceGroupId === undefined || g.resourceGroupId === resourceGroupId) &&
      hasTags(g, tags);

    return svc.store.read(async (tx) => {
      const all = (await tx.listGroups(call.principal.uid, regionId)).filter(match);
      const page = byToken
        ? { ...tokenPage(all, p, 10, 100), pageNumber: 1, pageSize: 0 }
        : { ...numberedPage(all, p), nextToken: '' };
      const views = [];
      for (const g of page.items) {
        const rules = await tx.listRules(g.id);
        views.push(
          groupView(g, {
            rules: rules.length,
            groupRules: rules.filter((r) => r.peerGroup).length,
            ecs: await tx.countInterfacesInGroup(g.id),
          }),
        );
      }
      return {
        RegionId: regionId,
        TotalCount: all.length,
        PageNumber: page.pageNumber,
        PageSize: byToken ? page.items.length : page.pageSize,
        NextToken: page.nextToken,
        SecurityGroups: { SecurityGroup: views },
      };
    });
  },
};
