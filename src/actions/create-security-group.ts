import { createGroup, type NewGroupInput } from '../domain/groups.js';
import { type ActionDef, ECS } from './context.js';
import { parseDescription, parseName, parseResourceGroupId, parseTags } from './fields.js';
import { domainContext, mutate } from './idempotency.js';
import { Params } from './params.js';

/** A new group's fields from CreateSecurityGroup's parameters (also an imported group's). */
export function parseGroupInput(p: Params, ownerUid: string): NewGroupInput {
  return {
    ownerUid,
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
}

export const createSecurityGroup: ActionDef = {
  version: ECS,
  name: 'CreateSecurityGroup',
  async run(svc, call) {
    const p = new Params(call.params);
    const input = parseGroupInput(p, call.principal.uid);
    return mutate(svc, call, p, async (tx) => {
      const g = await createGroup(tx, domainContext(svc), input);
      return { SecurityGroupId: g.id };
    });
  },
};
