/** The public cloud's regions and zones, as a built-in catalogue. */
export interface Region {
  readonly id: string;
  readonly zh: string;
  readonly en: string;
  readonly zones: readonly string[];
}

const r = (id: string, zh: string, en: string, zones: string): Region => ({
  id,
  zh,
  en,
  zones: zones.split('').map((z) => `${id}-${z}`),
});

export const REGIONS: readonly Region[] = [
  r('cn-qingdao', '华北1（青岛）', 'China (Qingdao)', 'bc'),
  r('cn-beijing', '华北2（北京）', 'China (Beijing)', 'acdefghijkl'),
  r('cn-zhangjiakou', '华北3（张家口）', 'China (Zhangjiakou)', 'abc'),
  r('cn-huhehaote', '华北5（呼和浩特）', 'China (Hohhot)', 'ab'),
  r('cn-wulanchabu', '华北6（乌兰察布）', 'China (Ulanqab)', 'abc'),
  r('cn-hangzhou', '华东1（杭州）', 'China (Hangzhou)', 'bfghijk'),
  r('cn-shanghai', '华东2（上海）', 'China (Shanghai)', 'abefglmn'),
  r('cn-nanjing', '华东5（南京-本地地域）', 'China (Nanjing - Local Region)', 'a'),
  r('cn-fuzhou', '华东6（福州-本地地域）', 'China (Fuzhou - Local Region)', 'a'),
  r('cn-shenzhen', '华南1（深圳）', 'China (Shenzhen)', 'abcdef'),
  r('cn-heyuan', '华南2（河源）', 'China (Heyuan)', 'ab'),
  r('cn-guangzhou', '华南3（广州）', 'China (Guangzhou)', 'ab'),
  r('cn-chengdu', '西南1（成都）', 'China (Chengdu)', 'ab'),
  r('cn-hongkong', '中国香港', 'China (Hong Kong)', 'bcd'),
  r('ap-northeast-1', '日本（东京）', 'Japan (Tokyo)', 'abc'),
  r('ap-northeast-2', '韩国（首尔）', 'South Korea (Seoul)', 'a'),
  r('ap-southeast-1', '新加坡', 'Singapore', 'abc'),
  r('ap-southeast-3', '马来西亚（吉隆坡）', 'Malaysia (Kuala Lumpur)', 'ab'),
  r('ap-southeast-5', '印度尼西亚（雅加达）', 'Indonesia (Jakarta)', 'abc'),
  r('ap-southeast-6', '菲律宾（马尼拉）', 'Philippines (Manila)', 'a'),
  r('ap-southeast-7', '泰国（曼谷）', 'Thailand (Bangkok)', 'a'),
  r('us-east-1', '美国（弗吉尼亚）', 'US (Virginia)', 'ab'),
  r('us-west-1', '美国（硅谷）', 'US (Silicon Valley)', 'ab'),
  r('eu-west-1', '英国（伦敦）', 'UK (London)', 'ab'),
  r('eu-central-1', '德国（法兰克福）', 'Germany (Frankfurt)', 'abc'),
  r('me-east-1', '阿联酋（迪拜）', 'UAE (Dubai)', 'a'),
  r('me-central-1', '沙特（利雅得）', 'SAU (Riyadh - Partner Region)', 'ab'),
];

const byId = new Map(REGIONS.map((x) => [x.id, x]));

export function findRegion(id: string): Region | undefined {
  return byId.get(id);
}

export function regionEndpoint(id: string): string {
  return `ecs.${id}.aliyuncs.com`;
}
