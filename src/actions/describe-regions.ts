import { REGIONS, regionEndpoint } from '../domain/regions.js';
import { prerender } from '../protocol/render.js';
import { type ActionDef, ECS } from './context.js';
import { Params } from './params.js';

/** The catalogue never changes: its rendering is done once per language. */
const rendered = (lang: 'zh-CN' | 'en-US') =>
  prerender('Regions', {
    Region: REGIONS.map((r) => ({
      RegionId: r.id,
      LocalName: lang === 'zh-CN' ? r.zh : r.en,
      RegionEndpoint: regionEndpoint(r.id),
      Status: 'available',
    })),
  });
const BY_LANGUAGE = {
  'zh-CN': rendered('zh-CN'),
  'en-US': rendered('en-US'),
  ja: rendered('en-US'),
};

export const describeRegions: ActionDef = {
  version: ECS,
  name: 'DescribeRegions',
  async run(_svc, call) {
    const p = new Params(call.params);
    const lang = p.oneOf('AcceptLanguage', ['zh-CN', 'en-US', 'ja'], 'InvalidParameter') ?? 'zh-CN';
    return { Regions: BY_LANGUAGE[lang] };
  },
};
