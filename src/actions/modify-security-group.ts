/** ModifySecurityGroupAttribute and ModifySecurityGroupPolicy. */
import { modifyGroupAttribute, modifyGroupPolicy } from '../domain/groups.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS } from './context.js';
import { parseDescription, parseName } from './fields.js';
import { mutate } from './idempotency.js';
import { Params } from './params.js';

export const modifySecurityGroupAttribute: ActionDef = {
  version: ECS,
  name: 'ModifySecurityGroupAttribute',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const groupId = p.req('SecurityGroupId');
    const change = {
      name: parseName(p, 'SecurityGroupName', 'InvalidSecurityGroupName.Malformed'),
      description: parseDescription(p),
    };
    return mutate(svc, call, p, async (tx) => {
      await modifyGroupAttribute(tx, call.principal.uid, regionId, groupId, change);
      return {};
    });
  },
};

export const modifySecurityGroupPolicy: ActionDef = {
  version: ECS,
  name: 'ModifySecurityGroupPolicy',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const groupId = p.req('SecurityGroupId');
    const policy = p.oneOf(
      'InnerAccessPolicy',
      ['Accept', 'Drop'],
      'InvalidInnerAccessPolicy.ValueNotSupported',
    );
    if (!policy) throw apiError('MissingParameter', 'InnerAccessPolicy');
    return mutate(svc, call, p, async (tx) => {
      await modifyGroupPolicy(tx, call.principal.uid, regionId, groupId, policy);
      return {};
    });
  },
};
