/**
 * Evaluation order as layers. The rules of one direction decide by the first match in
 * order (priority ascending, drop before accept at equal priority). Instead of one kernel
 * rule per security-group rule, the rules go into alternating layers of one policy each —
 * even layers drop, odd layers accept — and a packet gets the policy of the first layer
 * holding a box it falls in. A rule must come after every earlier-ordered rule of the other
 * policy it overlaps, and nothing else: it takes the lowest layer of its policy above those.
 *
 * Why that decides as the first match does: let r be the first matching rule in order, and e
 * any matching rule in a lower layer. Both match the packet, so they overlap; e is later in
 * order than r (r is the first); had e the other policy it would sit above r. So e has r's
 * policy, and so has the first matching layer.
 *
 * The number of layers is the longest chain of overlapping rules of alternating policy, not
 * the number of rules: rules that do not overlap share a layer whatever their priorities.
 * Trailing layers of the default's policy are dropped (they decide as the default does).
 */
import type { Policy, Rule } from '../domain/types.js';
import { decisionOrder } from '../engine/table.js';
import { type Box, overlaps, ruleBox } from './boxes.js';

export interface Layer {
  readonly policy: Policy;
  readonly boxes: readonly Box[];
}

/** The layers of `rules` (all of one direction), given the direction's default policy. */
export function layer(rules: readonly Rule[], fallback: Policy): Layer[] {
  const ranked = [...rules].sort(decisionOrder).flatMap((rule) => {
    const box = ruleBox(rule);
    return box === null ? [] : [{ policy: rule.policy, box }];
  });
  const level: number[] = [];
  for (let i = 0; i < ranked.length; i++) {
    const r = ranked[i]!;
    let at = r.policy === 'drop' ? 0 : 1;
    for (let j = 0; j < i; j++) {
      const e = ranked[j]!;
      if (e.policy !== r.policy && level[j]! >= at && overlaps(e.box, r.box)) at = level[j]! + 1;
    }
    level.push(at);
  }
  const top = level.reduce((m, l) => Math.max(m, l), -1);
  const byLevel: Box[][] = Array.from({ length: top + 1 }, () => []);
  ranked.forEach((r, i) => {
    byLevel[level[i]!]!.push(r.box);
  });
  // empty layers gone, neighbours of one policy merged, trailing ones of the default dropped
  const out: { policy: Policy; boxes: Box[] }[] = [];
  byLevel.forEach((boxes, l) => {
    if (boxes.length === 0) return;
    const policy: Policy = l % 2 === 0 ? 'drop' : 'accept';
    const last = out.at(-1);
    if (last?.policy === policy) last.boxes.push(...boxes);
    else out.push({ policy, boxes });
  });
  while (out.at(-1)?.policy === fallback) out.pop();
  return out;
}
