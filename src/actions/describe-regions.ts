import { REGIONS, regionEndpoint } from '../domain/regions.js';
import { type ActionDef, ECS } from './context.js';
import { Params } from './params.js';

export const describeRegions: ActionDef = {
  version: ECS,
  name: 'DescribeRegions',
  async run(_svc, call) {
    const p = new Params(call.params);
    const lang = p.oneOf('AcceptLanguage', ['zh-CN', 'en-US', 'ja'], 'InvalidParameter') ?? 'zh-CN';
    return {
      Regions: {
        Region: REGIONS.map((r) => ({
          RegionId: r.id,
          LocalName: lang === 'zh-CN' ? r.zh : r.en,
          RegionEndpoint: regionEndpoint(r.id),
          Status: 'available',
        })),
      },
    };
  },
};
