/**
 * DescribeSecurityGroupChanges — an action of this product, not of the public cloud: the
 * change feed. Answers the committed changes after `Cursor` in the caller's scope (see
 * src/domain/feed.ts), or a snapshot when there is no cursor or it cannot resume. With
 * `WaitSeconds` (1-30) it long-polls: it answers as soon as a commit on any node brings a
 * change in scope, or after that long with no change and the cursor moved to the log's head.
 */
import { type Cursor, isEmptyPage, parseCursor, readFeed } from '../domain/feed.js';
import { apiError } from '../errors.js';
import { encodePage } from '../feed/wire.js';
import { type ActionDef, ECS } from './context.js';
import { Params } from './params.js';

export const MAX_WAIT_SECONDS = 30;
/** How soon a long poll looks again while later commits settle (PostgreSQL). */
const SETTLE_MS = 10;

function waitSeconds(p: Params): number {
  const v = p.opt('WaitSeconds');
  if (v === undefined) return 0;
  if (!/^\d{1,2}$/.test(v) || Number(v) > MAX_WAIT_SECONDS) {
    throw apiError(
      'InvalidParameter.Value',
      'WaitSeconds',
      `${v} is not a number of seconds from 0 to ${MAX_WAIT_SECONDS}`,
    );
  }
  return Number(v);
}

export const describeSecurityGroupChanges: ActionDef = {
  version: ECS,
  name: 'DescribeSecurityGroupChanges',
  async run(svc, call) {
    const p = new Params(call.params);
    const scope = { ownerUid: call.principal.uid, regionId: p.region() };
    const text = p.opt('Cursor');
    let from: Cursor | undefined = text === undefined ? undefined : parseCursor(text);
    const wait = waitSeconds(p);
    const deadline = svc.now() + wait * 1000;
    const signal = svc.changes;
    if (wait > 0 && !signal.enter()) throw apiError('Throttling#feed');
    try {
      for (;;) {
        const seen = signal.generation;
        const page = await svc.store.read((tx) => readFeed(tx, scope, from));
        const left = deadline - svc.now();
        if (!isEmptyPage(page) || left <= 0 || signal.closed) return encodePage(page);
        from = page.cursor; // nothing in scope up to here: later reads start from it
        // commits not yet readable: look again in a moment (no signal comes when they are)
        await signal.wait(seen, page.settling ? Math.min(left, SETTLE_MS) : left);
      }
    } finally {
      if (wait > 0) signal.leave();
    }
  },
};
