/** AuthorizeSecurityGroup (ingress) and AuthorizeSecurityGroupEgress. */
import { authorize, ownGroup } from '../domain/rules.js';
import type { Direction } from '../domain/types.js';
import { type ActionDef, ECS } from './context.js';
import { domainContext, mutate } from './idempotency.js';
import { Params } from './params.js';
import { parsePermissions } from './permission.js';

function authorizeAction(name: string, direction: Direction): ActionDef {
  return {
    version: ECS,
    name,
    async run(svc, call) {
      const p = new Params(call.params);
      const regionId = p.region();
      const groupId = p.req('SecurityGroupId');
      const permissions = parsePermissions(p, direction);
      return mutate(svc, call, p, async (tx) => {
        const group = await ownGroup(tx, call.principal.uid, regionId, groupId, true);
        await authorize(tx, domainContext(svc), group, permissions);
        return {};
      });
    },
  };
}

export const authorizeSecurityGroup = authorizeAction('AuthorizeSecurityGroup', 'ingress');
export const authorizeSecurityGroupEgress = authorizeAction(
  'AuthorizeSecurityGroupEgress',
  'egress',
);
