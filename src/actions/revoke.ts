/** RevokeSecurityGroup (ingress) and RevokeSecurityGroupEgress: by rule ids or by definition. */
import { ownGroup, revokeByIds, revokeByPermissions } from '../domain/rules.js';
import type { Direction } from '../domain/types.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS } from './context.js';
import { domainContext, mutate } from './idempotency.js';
import { Params } from './params.js';
import { parsePermissions } from './permission.js';

function revokeAction(name: string, direction: Direction): ActionDef {
  return {
    version: ECS,
    name,
    async run(svc, call) {
      const p = new Params(call.params);
      const regionId = p.region();
      const groupId = p.req('SecurityGroupId');
      const ruleIds = p.list('SecurityGroupRuleId', 100);
      const byId = ruleIds.length > 0;
      if (byId && (p.has('IpProtocol') || p.indexed('Permissions', 100).size > 0)) {
        throw apiError(
          'InvalidParameter.Conflict',
          'SecurityGroupRuleId.N and rule definitions may not be mixed in one call.',
        );
      }
      const permissions = byId ? [] : parsePermissions(p, direction);
      return mutate(svc, call, p, async (tx) => {
        const group = await ownGroup(tx, call.principal.uid, regionId, groupId, true);
        if (byId) await revokeByIds(tx, group, direction, ruleIds);
        else await revokeByPermissions(tx, domainContext(svc), group, permissions);
        return {};
      });
    },
  };
}

export const revokeSecurityGroup = revokeAction('RevokeSecurityGroup', 'ingress');
export const revokeSecurityGroupEgress = revokeAction('RevokeSecurityGroupEgress', 'egress');
