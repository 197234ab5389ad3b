/** The action table: every API action served, by version. */
import type { Account } from '../domain/types.js';
import type { ActionHandler, ActionTable } from '../protocol/handler.js';
import { analyzeNetworkInterface, analyzeSecurityGroup } from './analyze.js';
import { authorizeSecurityGroup, authorizeSecurityGroupEgress } from './authorize.js';
import { checkSecurityGroupTraffic } from './check-traffic.js';
import type { ActionDef, Services } from './context.js';
import { createSecurityGroup } from './create-security-group.js';
import { deleteSecurityGroup } from './delete-security-group.js';
import { describeSecurityGroupChanges } from './describe-changes.js';
import { describeRegions } from './describe-regions.js';
import { describeSecurityGroupAttribute } from './describe-security-group-attribute.js';
import { describeSecurityGroupReferences } from './describe-security-group-references.js';
import { describeSecurityGroups } from './describe-security-groups.js';
import { joinSecurityGroup, leaveSecurityGroup } from './join-leave.js';
import { modifySecurityGroupEgressRule, modifySecurityGroupRule } from './modify-rule.js';
import {
  modifySecurityGroupAttribute,
  modifySecurityGroupPolicy,
} from './modify-security-group.js';
import {
  assignPrivateIpAddresses,
  createNetworkInterface,
  deleteNetworkInterface,
  describeNetworkInterfaceAttribute,
  describeNetworkInterfaces,
  modifyNetworkInterfaceAttribute,
  unassignPrivateIpAddresses,
} from './network-interfaces.js';
import { revokeSecurityGroup, revokeSecurityGroupEgress } from './revoke.js';
import { exportStateAction, importStateAction } from './state.js';
import {
  describeTags,
  joinResourceGroup,
  listTagResourcesEcs,
  listTagResourcesVpc,
  moveResourceGroup,
  tagResourcesEcs,
  tagResourcesVpc,
  untagResourcesEcs,
  untagResourcesVpc,
} from './tags.js';
import {
  createVpc,
  deleteVpc,
  describeRouteTableList,
  describeVpcAttribute,
  describeVpcs,
  modifyVpcAttribute,
} from './vpcs.js';
import {
  createVSwitch,
  deleteVSwitch,
  describeVSwitchAttributes,
  describeVSwitches,
  modifyVSwitchAttribute,
} from './vswitches.js';

export const ACTIONS: readonly ActionDef[] = [
  describeRegions,
  createSecurityGroup,
  deleteSecurityGroup,
  describeSecurityGroups,
  describeSecurityGroupAttribute,
  modifySecurityGroupAttribute,
  modifySecurityGroupPolicy,
  authorizeSecurityGroup,
  authorizeSecurityGroupEgress,
  revokeSecurityGroup,
  revokeSecurityGroupEgress,
  modifySecurityGroupRule,
  modifySecurityGroupEgressRule,
  describeSecurityGroupReferences,
  createNetworkInterface,
  deleteNetworkInterface,
  describeNetworkInterfaces,
  describeNetworkInterfaceAttribute,
  modifyNetworkInterfaceAttribute,
  assignPrivateIpAddresses,
  unassignPrivateIpAddresses,
  joinSecurityGroup,
  leaveSecurityGroup,
  tagResourcesEcs,
  untagResourcesEcs,
  listTagResourcesEcs,
  describeTags,
  joinResourceGroup,
  checkSecurityGroupTraffic,
  exportStateAction,
  importStateAction,
  analyzeSecurityGroup,
  analyzeNetworkInterface,
  describeSecurityGroupChanges,
  // VPC 2016-04-28
  createVpc,
  describeVpcs,
  describeVpcAttribute,
  modifyVpcAttribute,
  deleteVpc,
  describeRouteTableList,
  createVSwitch,
  describeVSwitches,
  describeVSwitchAttributes,
  modifyVSwitchAttribute,
  deleteVSwitch,
  tagResourcesVpc,
  untagResourcesVpc,
  listTagResourcesVpc,
  moveResourceGroup,
];

export function actionTable(
  svc: Services,
  defs: readonly ActionDef[] = ACTIONS,
): ActionTable<Account> {
  const byVersion = new Map<string, Map<string, ActionHandler<Account>>>();
  for (const d of defs) {
    if (!byVersion.has(d.version)) byVersion.set(d.version, new Map());
    byVersion.get(d.version)!.set(d.name, (call) => d.run(svc, call));
  }
  return {
    hasVersion: (v) => byVersion.has(v),
    lookup: (v, a) => byVersion.get(v)?.get(a),
  };
}
