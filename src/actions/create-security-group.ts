import { createGroup } from '../domain/groups.js';
import { type ActionDef, ECS } from './context.js';
import { parseDescription, parseName, parseResourceGroupId, parseTags } from './fields.js';
import { domainContext, mutate } from './idempotency.js';
import { Params } from './params.js';

export const createSecurityGroup: ActionDef = {
  version: ECS,
  name: 'CreateSecurityGroup',
  async run(svc, call) {
    const p = new Params(call.params);
    const input = {
      ownerUid: call.principal.uid,
      regionId: p.region(),
      name: parseName(p, 'SecurityGroupName', 'InvalidSecurityGroupName.Malformed') ?? '',
      description: parseDescription(p) ?? '',
      vpcId: p.opt('VpcId') ?? null,
      type:
        p.oneOf(
          'SecurityGroupType',
          ['normal', 'enterprise'],
          'InvalidSecurityGroupType.ValueNotSupported',
        ) ?? 'normal',
      resourceGroupId: parseResourceGroupId(p) ?? '',
      tags: parseTags(p),
    };
    return mutate(svc, call, p, async (tx) => {
      const g = await createGroup(tx, domainContext(svc), input);
      return { SecurityGroupId: g.id };
    });
  },
};
