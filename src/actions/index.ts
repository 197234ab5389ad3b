/** The action table: every API action served, by version. */
import type { Account } from '../domain/types.js';
import type { ActionHandler, ActionTable } from '../protocol/handler.js';
import type { ActionDef, Services } from './context.js';
import { describeRegions } from './describe-regions.js';

export const ACTIONS: readonly ActionDef[] = [describeRegions];

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
