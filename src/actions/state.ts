/**
 * ExportState and ImportState — this product's own actions (ECS 2014-05-26, signed like the
 * rest): the calling account's whole state as one versioned document, and that document
 * created back (all or nothing, idempotent). Every entry is validated by the same parsers
 * as the API's own parameters, under names that say where it is (`SecurityGroups.2.Permissions.3.PortRange`).
 */
import { gunzipSync } from 'node:zlib';
import { type Fixed, newId } from '../domain/ids.js';
import type { PermissionInput } from '../domain/rules.js';
import {
  exportState,
  importState,
  STATE_SCHEMA,
  STATE_VERSION,
  type StateInput,
} from '../domain/state.js';
import type { Tx } from '../domain/store.js';
import { ApiError, apiError, located } from '../errors.js';
import { type ActionDef, type DomainServices, ECS } from './context.js';
import { parseGroupInput } from './create-security-group.js';
import { parseDescription, parseName, parseResourceGroupId, parseTags } from './fields.js';
import { domainContext, mutate } from './idempotency.js';
import { Params } from './params.js';
import { parsePermission } from './permission.js';
import { vpcCidr, vpcDescription, vpcName } from './vpcs.js';
import { vSwitchCidr, vswDescription, vswName } from './vswitches.js';

type Json = Record<string, unknown>;

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const bad = (what: string) => apiError('InvalidParameter.State', what);

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A tag's key or value as a parameter's text: a string, a number or a boolean (absent: ''). */
function tagText(v: unknown, at: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw bad(`${at} is not a string`);
}

/** An entry's scalar fields, tags and lists as the request parameters they stand for. */
function paramsOf(entry: unknown, at: string, lists: readonly string[] = []): Params {
  if (!isObject(entry)) throw bad(`${at} is not an object`);
  const map = new Map<string, string>();
  for (const [k, v] of Object.entries(entry)) {
    if (k === 'Tags') {
      if (!Array.isArray(v)) throw bad(`${at}.Tags is not an array`);
      v.forEach((t, i) => {
        if (!isObject(t)) throw bad(`${at}.Tags[${i}] is not an object`);
        map.set(`Tag.${i + 1}.Key`, tagText(t.Key, `${at}.Tags[${i}].Key`));
        map.set(`Tag.${i + 1}.Value`, tagText(t.Value, `${at}.Tags[${i}].Value`));
      });
    } else if (lists.includes(k)) {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
        throw bad(`${at}.${k} is not an array of strings`);
      }
      v.forEach((x, i) => {
        map.set(`${k}.${i + 1}`, x as string);
      });
    } else if (k === 'Permissions') {
      // handled by the caller
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      map.set(k, String(v));
    } else {
      throw bad(`${at}.${k} is not a string, a number or a boolean`);
    }
  }
  return new Params(map, `${at}.`);
}

/**
 * The entry's id (of `prefix-…` form) and creation time (now when absent). A rule may come
 * without an id (a hand-written fixture): it gets a new one.
 */
function fixedOf(p: Params, idName: string, prefix: string, timeName: string, now: string): Fixed {
  const id = prefix === 'sgr' ? (p.opt(idName) ?? newId('sgr')) : p.req(idName);
  if (!new RegExp(`^${prefix}-[0-9a-z]{1,64}$`).test(id)) {
    throw apiError('InvalidParameter', `${p.prefix}${idName}`);
  }
  const time = p.opt(timeName) ?? now;
  if (!TIME.test(time)) throw apiError('InvalidParameter', `${p.prefix}${timeName}`);
  return { id, time };
}

/** Calls `fn` on every entry of the list `name` (absent: none), naming the entry in its errors. */
function each(
  doc: Json,
  name: string,
  fn: (entry: unknown, at: string) => void,
  within = '',
): void {
  const v = doc[name] ?? [];
  if (!Array.isArray(v)) throw bad(`${within}${name} is not an array`);
  v.forEach((entry, i) => {
    const at = `${within}${name}.${i + 1}`;
    try {
      fn(entry, at);
    } catch (e) {
      if (!(e instanceof ApiError) || e.key === 'InvalidParameter.State' || placed.has(e)) throw e;
      const out = located(e, `at ${at}`) as ApiError;
      placed.add(out);
      throw out;
    }
  });
}

/** Errors that already say where they arose. */
const placed = new WeakSet<ApiError>();

/** Parses and validates a whole document for `ownerUid` (syntax; the model is checked on import). */
export function parseState(doc: unknown, ownerUid: string, now: string): StateInput {
  if (!isObject(doc)) throw bad('the document is not a JSON object');
  if (doc.Schema !== STATE_SCHEMA || doc.SchemaVersion !== STATE_VERSION) {
    throw bad(`expected "Schema": "${STATE_SCHEMA}", "SchemaVersion": ${STATE_VERSION}`);
  }
  if (doc.OwnerId !== undefined && doc.OwnerId !== ownerUid) {
    const named = typeof doc.OwnerId === 'string' ? doc.OwnerId : JSON.stringify(doc.OwnerId);
    throw bad(`it holds the state of account ${named}, not of the caller`);
  }
  const owner = { ownerUid };
  const state: StateInput = { vpcs: [], vswitches: [], groups: [], interfaces: [] };
  each(doc, 'Vpcs', (e, at) => {
    const p = paramsOf(e, at);
    state.vpcs.push({
      fixed: fixedOf(p, 'VpcId', 'vpc', 'CreationTime', now),
      entry: e as Json,
      input: {
        ...owner,
        regionId: p.region(),
        cidrBlock: vpcCidr(p, 'CidrBlock', '172.16.0.0/12')!,
        name: vpcName(p) ?? '',
        description: vpcDescription(p) ?? '',
        resourceGroupId: parseResourceGroupId(p) ?? '',
        tags: parseTags(p, 'vpc'),
      },
    });
  });
  each(doc, 'VSwitches', (e, at) => {
    const p = paramsOf(e, at);
    state.vswitches.push({
      fixed: fixedOf(p, 'VSwitchId', 'vsw', 'CreationTime', now),
      entry: e as Json,
      input: {
        ...owner,
        regionId: p.region(),
        vpcId: p.req('VpcId'),
        zoneId: p.req('ZoneId'),
        cidrBlock: vSwitchCidr(p),
        name: vswName(p) ?? '',
        description: vswDescription(p) ?? '',
        tags: parseTags(p, 'vpc'),
      },
    });
  });
  each(doc, 'SecurityGroups', (e, at) => {
    const p = paramsOf(e, at);
    const rules: StateInput['groups'][number]['rules'] = [];
    each(
      e as Json,
      'Permissions',
      (r, rat) => {
        const rp = paramsOf(r, rat);
        const direction = rp.oneOf('Direction', ['ingress', 'egress'], 'InvalidParameter');
        if (direction === undefined) throw apiError('MissingParameter', `${rp.prefix}Direction`);
        const input: PermissionInput = parsePermission(rp, direction);
        rules.push({ fixed: fixedOf(rp, 'SecurityGroupRuleId', 'sgr', 'CreateTime', now), input });
      },
      `${at}.`,
    );
    state.groups.push({
      fixed: fixedOf(p, 'SecurityGroupId', 'sg', 'CreationTime', now),
      entry: e as Json,
      rules,
      input: {
        ...parseGroupInput(p, ownerUid),
        innerAccessPolicy: p.oneOf(
          'InnerAccessPolicy',
          ['Accept', 'Drop'],
          'InvalidInnerAccessPolicy.ValueNotSupported',
        ),
      },
    });
  });
  each(doc, 'NetworkInterfaces', (e, at) => {
    const p = paramsOf(e, at, ['SecondaryIpAddresses', 'SecurityGroupIds']);
    const groups = p.list('SecurityGroupIds', 5, 'InstanceSecurityGroupLimitExceeded');
    if (groups.length === 0) throw apiError('MissingParameter', `${p.prefix}SecurityGroupIds`);
    state.interfaces.push({
      fixed: fixedOf(p, 'NetworkInterfaceId', 'eni', 'CreationTime', now),
      entry: e as Json,
      input: {
        ...owner,
        regionId: p.region(),
        vSwitchId: p.req('VSwitchId'),
        securityGroupIds: groups,
        primaryIpAddress: p.opt('PrimaryIpAddress'),
        secondary: { addresses: p.list('SecondaryIpAddresses', 49), count: 0 },
        name: parseName(p, 'NetworkInterfaceName', 'InvalidNetworkInterfaceName.Malformed') ?? '',
        description: parseDescription(p) ?? '',
        resourceGroupId: parseResourceGroupId(p) ?? '',
        tags: parseTags(p),
        queueNumber: p.int('QueueNumber', 1, 2048) ?? 1,
        sourceDestCheck: p.bool('SourceDestCheck') ?? false,
        deleteOnRelease: p.bool('DeleteOnRelease') ?? true,
      },
    });
  });
  return state;
}

/** What `StateGzip` may unpack to: a 10 MiB document fits, a gzip bomb does not. */
export const MAX_UNPACKED_STATE = 16 << 20;
/** How deep a state document may nest (it needs 6: document, list, entry, rules, rule, tags). */
export const MAX_STATE_DEPTH = 32;

/**
 * Whether JSON `text` nests deeper than `max` arrays and objects: checked before parsing, which
 * takes seconds for millions of levels (a small gzip unpacks to that many).
 */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // an escape: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The document of `ImportState`'s `State` (JSON) or `StateGzip` (base64 of gzipped JSON). */
function documentOf(p: Params): unknown {
  const plain = p.opt('State');
  const zipped = p.opt('StateGzip');
  if ((plain === undefined) === (zipped === undefined)) {
    throw apiError('MissingParameter', 'State (or StateGzip)');
  }
  let text: string;
  try {
    text =
      plain ??
      gunzipSync(Buffer.from(zipped!, 'base64'), { maxOutputLength: MAX_UNPACKED_STATE }).toString(
        'utf8',
      );
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw bad(`StateGzip unpacks to more than ${MAX_UNPACKED_STATE >> 20} MiB`);
    }
    throw bad('StateGzip is not base64 of gzipped JSON');
  }
  if (nestsDeeperThan(text, MAX_STATE_DEPTH)) {
    throw bad(`it nests arrays and objects more than ${MAX_STATE_DEPTH} deep`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw bad(`it is not JSON (${(e as Error).message})`);
  }
}

export const exportStateAction: ActionDef = {
  version: ECS,
  name: 'ExportState',
  async run(svc, call) {
    return svc.store.read(async (tx: Tx) => ({ State: await exportState(tx, call.principal.uid) }));
  },
};

/** Validates `doc` and creates what it holds for `ownerUid` in one transaction. */
export async function importDocument(
  svc: DomainServices,
  ownerUid: string,
  doc: unknown,
): Promise<{ created: number; unchanged: number }> {
  const state = parseState(doc, ownerUid, stamp(svc.now()));
  return svc.store.write((tx) => importState(tx, domainContext(svc), ownerUid, state));
}

const stamp = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

export const importStateAction: ActionDef = {
  version: ECS,
  name: 'ImportState',
  async run(svc, call) {
    const p = new Params(call.params);
    const state = parseState(documentOf(p), call.principal.uid, stamp(svc.now()));
    return mutate(svc, call, p, async (tx) => {
      const r = await importState(tx, domainContext(svc), call.principal.uid, state);
      return { Created: r.created, Unchanged: r.unchanged };
    });
  },
};
