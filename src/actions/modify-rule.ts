/**
 * ModifySecurityGroupRule (ingress) and ModifySecurityGroupEgressRule: a rule named by its
 * SecurityGroupRuleId, or (the API's older form, which Terraform sends) by its definition.
 */
import { findByDefinition, modifyRule, ownGroup, ruleOf } from '../domain/rules.js';
import type { Direction, Rule } from '../domain/types.js';
import { apiError } from '../errors.js';
import { type ActionDef, ECS } from './context.js';
import { domainContext, mutate } from './idempotency.js';
import { Params } from './params.js';
import { endNames, parsePermission } from './permission.js';

/** Fields a Modify may clear by giving them empty. */
const CLEARABLE = new Set(['Description', 'SourcePortRange']);
/** What a Modify by definition may change: the rest of its parameters name the rule. */
const BY_DEFINITION = ['Priority', 'Description'];

const range = (r: Rule['portRange'] | null) => (r ? `${r.from}/${r.to}` : undefined);

/** The flat parameters that define `rule` (its far end under the direction's names). */
function ruleParams(rule: Rule): Map<string, string> {
  const n = endNames(rule.direction);
  const entries: [string, string | undefined | null][] = [
    ['IpProtocol', rule.protocol],
    ['PortRange', range(rule.portRange)],
    ['SourcePortRange', range(rule.sourcePortRange)],
    ['NicType', rule.nicType],
    ['Policy', rule.policy],
    ['Priority', String(rule.priority)],
    ['Description', rule.description],
    [n.cidr, rule.peerCidr && (rule.peerCidrText ?? rule.peerCidr)],
    [n.ipv6, rule.peerIpv6Cidr && (rule.peerCidrText ?? rule.peerIpv6Cidr)],
    [n.group, rule.peerGroup?.groupId],
    [n.ownerId, rule.peerGroup?.ownerUid],
    [n.localCidr, rule.localCidr && (rule.localCidrText ?? rule.localCidr)],
    [n.localIpv6, rule.localIpv6Cidr && (rule.localCidrText ?? rule.localIpv6Cidr)],
  ];
  return new Map(
    entries.filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  );
}

function farKind(p: Params, direction: Direction, rule?: Rule): string | undefined {
  const n = endNames(direction);
  if (rule) return rule.peerGroup ? 'group' : rule.peerIpv6Cidr ? 'ipv6' : 'cidr';
  if (p.has(n.cidr)) return 'cidr';
  if (p.has(n.ipv6)) return 'ipv6';
  if (p.has(n.group) || p.has(n.ownerAccount) || p.has(n.ownerId)) return 'group';
  return undefined;
}

function modifyRuleAction(name: string, direction: Direction): ActionDef {
  return {
    version: ECS,
    name,
    async run(svc, call) {
      const p = new Params(call.params);
      const regionId = p.region();
      const groupId = p.req('SecurityGroupId');
      const ruleId = p.opt('SecurityGroupRuleId');
      const n = endNames(direction);
      const farNames = [n.cidr, n.ipv6, n.group, n.ownerAccount, n.ownerId];
      // by definition: the parameters name the rule; only its priority and description change
      const definition = ruleId === undefined ? parsePermission(p, direction) : undefined;
      return mutate(svc, call, p, async (tx) => {
        const group = await ownGroup(tx, call.principal.uid, regionId, groupId, true);
        const ctx = domainContext(svc);
        const existing =
          definition !== undefined
            ? await findByDefinition(tx, ctx, group, definition)
            : await ruleOf(tx, group, direction, ruleId!);
        const requested = farKind(p, direction);
        if (requested !== undefined && requested !== farKind(p, direction, existing)) {
          throw apiError('InvalidSecurityGroupRule.KindChange');
        }
        const merged = ruleParams(existing);
        if (definition === undefined && requested !== undefined) {
          for (const f of farNames) merged.delete(f);
        }
        for (const [k, v] of call.params) {
          if (definition !== undefined && !BY_DEFINITION.includes(k)) continue;
          if (v !== '') merged.set(k, v);
          else if (CLEARABLE.has(k)) merged.delete(k);
        }
        const input = parsePermission(new Params(merged), direction);
        await modifyRule(tx, ctx, group, existing, input);
        return {};
      });
    },
  };
}

export const modifySecurityGroupRule = modifyRuleAction('ModifySecurityGroupRule', 'ingress');
export const modifySecurityGroupEgressRule = modifyRuleAction(
  'ModifySecurityGroupEgressRule',
  'egress',
);
