import { evaluationOrder, ownGroup } from '../domain/rules.js';
import { rawJson } from '../protocol/render.js';
import { type ActionDef, ECS } from './context.js';
import { ReadMemo } from './memo.js';
import { tokenPage } from './paging.js';
import { Params } from './params.js';
import { peerInfos, permissionJson } from './views.js';

/** Answers by request while nothing commits: Terraform and dashboards read the same groups. */
const recent = new ReadMemo<Record<string, unknown>>();

export const describeSecurityGroupAttribute: ActionDef = {
  version: ECS,
  name: 'DescribeSecurityGroupAttribute',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const groupId = p.req('SecurityGroupId');
    const direction =
      p.oneOf('Direction', ['ingress', 'egress', 'all'], 'InvalidParameter') ?? 'all';
    // A NicType filter that names no NIC type is ignored rather than refused: Terraform's
    // alicloud provider reads back rules created without nic_type with NicType=<nil>.
    const nicFilter = p.opt('NicType')?.toLowerCase();
    const nicType = nicFilter === 'internet' || nicFilter === 'intranet' ? nicFilter : undefined;
    const key = JSON.stringify([
      call.principal.uid,
      regionId,
      groupId,
      direction,
      nicType,
      p.opt('NextToken'),
      p.opt('MaxResults'),
    ]);
    return recent.get(svc.store, key, async (tx) => {
      const g = await ownGroup(tx, call.principal.uid, regionId, groupId);
      const rules = (await tx.listRules(g.id))
        .filter((r) => direction === 'all' || r.direction === direction)
        .filter((r) => nicType === undefined || r.nicType === nicType)
        .sort(evaluationOrder);
      const page = tokenPage(rules, p);
      const peers = await peerInfos(tx, svc.accounts, page.items, g.ownerUid);
      const permissions = page.items
        .map((r) => permissionJson(r, r.peerGroup ? peers.get(r.peerGroup.groupId) : undefined))
        .join(',');
      const value = {
        RegionId: regionId,
        SecurityGroupId: g.id,
        SecurityGroupName: g.name,
        Description: g.description,
        VpcId: g.vpcId ?? '',
        InnerAccessPolicy: g.innerAccessPolicy,
        NextToken: page.nextToken,
        Permissions: rawJson('Permissions', `{"Permission":[${permissions}]}`),
      };
      // what the answer shows: the group, its rules, the names of the groups they name
      return { value, groups: [g.id, ...peers.keys()] };
    });
  },
};
