/** Keeps an Engine equal to the model: built from a snapshot, then fed committed changes. */
import type { Change, Snapshot } from '../domain/store.js';
import { Engine } from './engine.js';

export function applyChanges(engine: Engine, changes: readonly Change[]): void {
  for (const c of changes) {
    if (c.kind === 'group') {
      if (c.group) engine.upsertGroup(c.group);
      else engine.removeGroup(c.id);
    } else if (c.kind === 'rule') {
      if (c.rule) engine.upsertRule(c.rule);
      else engine.removeRule(c.id);
    } else if (c.eni) engine.upsertInterface(c.eni);
    else engine.removeInterface(c.id);
  }
}

/** An engine holding every group, rule and interface of `snap`. */
export function engineOf(snap: Snapshot, engine = new Engine()): Engine {
  for (const g of snap.groups) engine.upsertGroup(g);
  for (const r of snap.rules) engine.upsertRule(r);
  for (const e of snap.interfaces) engine.upsertInterface(e);
  return engine;
}
