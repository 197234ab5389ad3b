/**
 * AnalyzeSecurityGroup and AnalyzeNetworkInterface — actions of this product (ECS 2014-05-26,
 * signed like the rest): the rules of a group as they decide for an interface in that group
 * alone, or the merged rules of an interface's groups, judged exactly by the rule analyzer;
 * with a proposed change (Add.N.*, Remove.N), what it would change. Nothing is stored: the
 * model is read in one read transaction, group members come from the engine.
 */
import { ownInterface } from '../domain/network.js';
import { ownGroup } from '../domain/rules.js';
import type { Tx } from '../domain/store.js';
import type { Direction, Rule, SecurityGroup } from '../domain/types.js';
import {
  type AnalysisInput,
  analyze,
  groupSubject,
  interfaceSubject,
} from '../engine/analyze/index.js';
import { apiError } from '../errors.js';
import { analysisView } from './analysis-view.js';
import { type ActionDef, type Call, ECS, type Services } from './context.js';
import { domainContext } from './idempotency.js';
import { Params } from './params.js';
import { parseWhatIf, resolveWhatIf, type Targets, type WhatIfRequest } from './what-if.js';

const MAX_EXPOSURE_PORTS = 1024;

/** `Direction`: ingress, egress, or all (the default). */
function directions(p: Params): readonly Direction[] | undefined {
  const d = p.oneOf('Direction', ['ingress', 'egress', 'all'] as const, 'InvalidParameter');
  return d === undefined || d === 'all' ? undefined : [d];
}

/** `ExposurePort.N`: ports (`22`) or ranges (`20-23`); the analyzer's list when none. */
function exposurePorts(p: Params): number[] | undefined {
  const ports = new Set<number>();
  for (const [n, sub] of p.indexed('ExposurePort', 100)) {
    const v = sub.opt('');
    if (v === undefined) continue;
    const name = `ExposurePort.${n}`;
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
    const from = Number(m?.[1]);
    const to = Number(m?.[2] ?? m?.[1]);
    if (m === null || from < 1 || to > 65535 || from > to) {
      throw apiError(
        'InvalidParameter.Value',
        name,
        `${v} is not a port or a range a-b of 1-65535`,
      );
    }
    for (let x = from; x <= to; x++) ports.add(x);
    if (ports.size > MAX_EXPOSURE_PORTS) {
      throw apiError('InvalidParameter.Value', name, `more than ${MAX_EXPOSURE_PORTS} ports`);
    }
  }
  return ports.size === 0 ? undefined : [...ports];
}

interface Request {
  readonly regionId: string;
  readonly directions: readonly Direction[] | undefined;
  readonly exposurePorts: number[] | undefined;
  readonly whatIf: WhatIfRequest | undefined;
}

function request(p: Params): Request {
  return {
    regionId: p.region(),
    directions: directions(p),
    exposurePorts: exposurePorts(p),
    whatIf: parseWhatIf(p),
  };
}

async function rulesOf(tx: Tx, groups: readonly SecurityGroup[]): Promise<Rule[]> {
  const out: Rule[] = [];
  for (const g of groups) out.push(...(await tx.listRules(g.id)));
  return out;
}

function options(req: Request, change: AnalysisInput['whatIf']): Partial<AnalysisInput> {
  return { directions: req.directions, exposurePorts: req.exposurePorts, whatIf: change };
}

/**
 * What `load` reads of the model, and the proposed change resolved against its rules, in one
 * read transaction.
 */
function read<T extends { rules: readonly Rule[]; targets: Targets }>(
  svc: Services,
  req: Request,
  load: (tx: Tx) => Promise<T>,
): Promise<T & { change: AnalysisInput['whatIf'] }> {
  return svc.store.read(async (tx) => {
    const model = await load(tx);
    const change =
      req.whatIf &&
      (await resolveWhatIf(tx, domainContext(svc), req.whatIf, model.rules, model.targets));
    return { ...model, change };
  });
}

export const analyzeSecurityGroup: ActionDef = {
  version: ECS,
  name: 'AnalyzeSecurityGroup',
  async run(svc, call: Call) {
    const p = new Params(call.params);
    const req = request(p);
    const groupId = p.req('SecurityGroupId');
    const { group, rules, change } = await read(svc, req, async (tx) => {
      const group = await ownGroup(tx, call.principal.uid, req.regionId, groupId);
      const targets: Targets = {
        groups: [group],
        subject: group.id,
        fallback: group,
        notOurs: (param, id) =>
          apiError('InvalidParameter.Value', param, `${id} is not ${group.id}, the group analyzed`),
      };
      return { group, rules: await tx.listRules(group.id), targets };
    });
    const subject = groupSubject(group, rules, (id) => svc.engine.membersOf(id));
    const analysis = analyze({ ...subject, ...options(req, change) });
    return { RegionId: req.regionId, SecurityGroupId: group.id, ...analysisView(analysis) };
  },
};

export const analyzeNetworkInterface: ActionDef = {
  version: ECS,
  name: 'AnalyzeNetworkInterface',
  async run(svc, call: Call) {
    const p = new Params(call.params);
    const req = request(p);
    const eniId = p.req('NetworkInterfaceId');
    const { eni, groups, rules, change } = await read(svc, req, async (tx) => {
      const eni = await ownInterface(tx, call.principal.uid, req.regionId, eniId);
      const groups: SecurityGroup[] = [];
      for (const id of new Set(eni.securityGroupIds)) {
        const g = await tx.getGroup(id);
        if (g !== undefined) groups.push(g);
      }
      const targets: Targets = {
        groups,
        subject: eni.id,
        fallback: groups.length === 1 ? groups[0] : undefined,
        notOurs: () => apiError('InstanceNotInSecurityGroup'),
      };
      return { eni, groups, rules: await rulesOf(tx, groups), targets };
    });
    const subject = interfaceSubject(eni, groups, rules, (id) => svc.engine.membersOf(id));
    const withGroups = groups.length > 1;
    const analysis = analyze({ ...subject, withGroups, ...options(req, change) });
    return {
      RegionId: req.regionId,
      NetworkInterfaceId: eni.id,
      SecurityGroupIds: { SecurityGroupId: groups.map((g) => g.id) },
      ...analysisView(analysis, eni.id),
    };
  },
};
