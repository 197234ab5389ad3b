import { groupReferences } from '../domain/groups.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS } from './context.js';
import { Params } from './params.js';

export const describeSecurityGroupReferences: ActionDef = {
  version: ECS,
  name: 'DescribeSecurityGroupReferences',
  async run(svc, call) {
    const p = new Params(call.params);
    const regionId = p.region();
    const ids = p.list('SecurityGroupId', 10);
    if (ids.length === 0) throw apiError('MissingParameter', 'SecurityGroupId.1');
    return svc.store.read(async (tx) => {
      const refs = await groupReferences(tx, call.principal.uid, regionId, ids);
      return {
        SecurityGroupReferences: {
          SecurityGroupReference: refs.map((r) => ({
            SecurityGroupId: r.groupId,
            ReferencingSecurityGroups: {
              ReferencingSecurityGroup: r.referencing.map((x) => ({
                AliUid: x.ownerUid,
                SecurityGroupId: x.groupId,
              })),
            },
          })),
        },
      };
    });
  },
};
