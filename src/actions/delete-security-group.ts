import { deleteGroup } from '../domain/groups.js';
import { type ActionDef, ECS } from './context.js';
import { mutate } from './idempotency.js';
import { Params } from './params.js';

export const deleteSecurityGroup: ActionDef = {
  version: ECS,
  name: 'DeleteSecurityGroup',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const groupId = p.req('SecurityGroupId');
    return mutate(svc, call, p, async (tx) => {
      await deleteGroup(tx, call.principal.uid, regionId, groupId);
      return {};
    });
  },
};
