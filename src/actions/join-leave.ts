/** JoinSecurityGroup and LeaveSecurityGroup, for network interfaces. */
import { joinGroup, leaveGroup } from '../domain/network.js';
import { apiError } from '../errors.js';
import { type ActionDef, type Call, ECS, type Services } from './context.js';
import { mutate } from './idempotency.js';
import { Params } from './params.js';

function membershipAction(name: string, change: typeof joinGroup): ActionDef {
  return {
    version: ECS,
    name,
    async run(svc: Services, call: Call) {
      const p = new Params(call.params);
      const regionId = p.region();
      const groupId = p.req('SecurityGroupId');
      const eniId = p.opt('NetworkInterfaceId');
      if (eniId === undefined) {
        if (p.has('InstanceId')) throw apiError('InvalidInstanceId.NotFound');
        throw apiError('MissingParameter', 'NetworkInterfaceId');
      }
      return mutate(svc, call, p, async (tx) => {
        await change(tx, call.principal.uid, regionId, eniId, groupId);
        return {};
      });
    },
  };
}

export const joinSecurityGroup = membershipAction('JoinSecurityGroup', joinGroup);
export const leaveSecurityGroup = membershipAction('LeaveSecurityGroup', leaveGroup);
