/**
 * Mutations of an action's parameters, applied before the request is signed: values of the
 * wrong type or form, boundary and huge numbers, empty and blank values, unicode (control
 * characters, U+FFFE/U+FFFF, surrogate halves, bidi marks), long strings, indices 0/-1/huge,
 * duplicate and prototype-named keys, malformed CIDRs, ports and protocols, other actions and
 * versions, Format variants, and mutated state documents for ImportState.
 */
import { gzipSync } from 'node:zlib';
import type { Rng } from './rng.js';

/** Parameters in wire order; a key may repeat. */
export type Pairs = [string, string][];

export const ECS = '2014-05-26';
export const VPC = '2016-04-28';

const NUMBERS = [
  '0',
  '1',
  '-1',
  '2',
  '5',
  '20',
  '21',
  '49',
  '50',
  '51',
  '100',
  '101',
  '500',
  '501',
  '1024',
  '2048',
  '2049',
  '65535',
  '65536',
  '2147483647',
  '2147483648',
  '-2147483649',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '99999999999999999999999',
  '1e3',
  '1E400',
  '1.5',
  '1.0',
  '-0',
  '+1',
  '0x10',
  '010',
  '00001',
  ' 1',
  '1 ',
  '١',
  '\uff11',
  'NaN',
  'Infinity',
  '-Infinity',
];

const BOOLEANS = ['true', 'false', 'TRUE', 'False', 'yes', '1', '0', 'null'];

const BLANK = ['', ' ', '  ', '\t', '\n', '\r\n', ' x ', '\u3000'];

const SYNTAX = [
  'null',
  'undefined',
  '[]',
  '{}',
  '[1,2]',
  '{"a":1}',
  '"',
  "'",
  '\\',
  '\\u0000',
  '<x>',
  '</Error>',
  '&amp;',
  '&#0;',
  '&#x1;',
  ']]>',
  '<![CDATA[x]]>',
  '<?xml version="1.0"?>',
  '$' + '{x}',
  '%s%s%s',
  '%n',
  '%00',
  '%',
  '+',
  '?&=#',
  '=',
  '&',
  '../../etc/passwd',
  'http://example.test/',
  'https://x',
  'aliyun:x',
  'acs:x',
  '*',
  '.*',
  '(a+)+$',
  'a'.repeat(30) + '!',
];

const UNICODE = [
  '\u0000',
  'a\u0000b',
  '\u0001',
  '\u0008',
  '\u000b',
  '\u000c',
  '\u001b[31m',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u0085',
  '\u009f',
  '\u00a0',
  '\u00ad',
  '\u2028',
  '\u2029',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\ufffd',
  '\ufffe',
  '\uffff',
  'x\ufffe',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  '\u{10ffff}',
  'é',
  'e\u0301',
  '中文组',
  'İ',
  'ß',
  'Ω',
];

const LONG_SIZES = [2, 3, 64, 65, 127, 128, 129, 255, 256, 257, 512, 513, 1025, 4097, 20_000];

const CIDRS = [
  '0.0.0.0/0',
  '10.0.0.0/8',
  '10.1.2.3/8',
  '1.2.3.4',
  '1.2.3.4/32',
  '1.2.3.4/33',
  '1.2.3.4/-1',
  '1.2.3.4/',
  '1.2.3.4/08',
  '1.2.3.4/ 8',
  '1.2.3.4/32/1',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.5',
  '256.1.1.1',
  '1.2.3.-4',
  '0x7f.0.0.1',
  '127.1',
  '::/0',
  '::1',
  '::1/128',
  '::1/129',
  '2001:db8::/32',
  '2001:DB8::1/64',
  '2001:db8::1::2',
  '::ffff:1.2.3.4',
  '::ffff:1.2.3.4/96',
  'fe80::1%eth0',
  '[::1]',
  '1:2:3:4:5:6:7:8:9',
  'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128',
  '10.0.0.0/16',
  '10.1.0.0/16',
  '10.1.1.0/24',
  '10.1.0.5',
  '10.1.0.255',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '192.168.0.0/29',
  '192.168.0.0/30',
  '100.64.0.0/10',
];

const PORTS = [
  '1/65535',
  '22/22',
  '80/80',
  '-1/-1',
  '0/0',
  '0/22',
  '22/0',
  '65535/1',
  '1/65536',
  '65536/65536',
  '22',
  '22/',
  '/22',
  '22/22/22',
  '+22/22',
  '022/22',
  '22.0/22',
  '1-2',
  '-2/-1',
  '-1/22',
  '22/-1',
  '99999/99999',
  '1/1',
];

const PROTOCOLS = [
  'tcp',
  'TCP',
  'tCp',
  'udp',
  'icmp',
  'ICMP',
  'icmpv6',
  'ICMPv6',
  'gre',
  'all',
  'ALL',
  'ip',
  'tcp/6',
  '6',
  'icmpv7',
  'tcp ',
  ' tcp',
  'a'.repeat(17),
];

const POLICIES = ['accept', 'Accept', 'drop', 'DROP', 'allow', 'deny', 'reject'];
const DIRECTIONS = ['ingress', 'egress', 'all', 'INGRESS', 'Egress', 'in', 'both'];
const NIC_TYPES = ['internet', 'intranet', 'INTRANET', '<nil>', 'vpc', 'classic'];
const REGIONS = ['cn-hangzhou', 'cn-HANGZHOU', 'cn-beijing', 'us-east-1', 'cn-hangzhou-i', 'xx'];
const ZONES = ['cn-hangzhou-i', 'cn-hangzhou-b', 'cn-hangzhou-a', 'cn-beijing-a', 'i'];
const FORMATS = ['JSON', 'XML', 'json', 'xml', 'Json', '', 'YAML', 'JSONP', 'xml ', 'JSON\u0000'];
const VERSIONS = [ECS, VPC, '2014-5-26', '2014-05-26 ', '2016-04-28.', 'latest', '', '1'];
const LANGUAGES = ['zh-CN', 'en-US', 'ja', 'EN-us', ''];

/** Every action served (and some that are not), for Action mutations. */
export const ACTION_NAMES = [
  'DescribeRegions',
  'CreateSecurityGroup',
  'DeleteSecurityGroup',
  'DescribeSecurityGroups',
  'DescribeSecurityGroupAttribute',
  'ModifySecurityGroupAttribute',
  'ModifySecurityGroupPolicy',
  'AuthorizeSecurityGroup',
  'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroup',
  'RevokeSecurityGroupEgress',
  'ModifySecurityGroupRule',
  'ModifySecurityGroupEgressRule',
  'DescribeSecurityGroupReferences',
  'CreateNetworkInterface',
  'DeleteNetworkInterface',
  'DescribeNetworkInterfaces',
  'DescribeNetworkInterfaceAttribute',
  'ModifyNetworkInterfaceAttribute',
  'AssignPrivateIpAddresses',
  'UnassignPrivateIpAddresses',
  'JoinSecurityGroup',
  'LeaveSecurityGroup',
  'TagResources',
  'UntagResources',
  'UnTagResources',
  'ListTagResources',
  'DescribeTags',
  'JoinResourceGroup',
  'CheckSecurityGroupTraffic',
  'ExportState',
  'ImportState',
  'AnalyzeSecurityGroup',
  'AnalyzeNetworkInterface',
  'CreateVpc',
  'DescribeVpcs',
  'DescribeVpcAttribute',
  'ModifyVpcAttribute',
  'DeleteVpc',
  'DescribeRouteTableList',
  'CreateVSwitch',
  'DescribeVSwitches',
  'DescribeVSwitchAttributes',
  'ModifyVSwitchAttribute',
  'DeleteVSwitch',
  'MoveResourceGroup',
  'DescribeInstances',
  'describeregions',
  'DescribeRegions ',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'toString',
  '',
];

/** Names the actions read, for added and renamed parameters. */
const PARAM_NAMES = [
  'RegionId',
  'SecurityGroupId',
  'SecurityGroupIds',
  'SecurityGroupId.1',
  'SecurityGroupName',
  'SecurityGroupType',
  'SecurityGroupRuleId',
  'SecurityGroupRuleId.1',
  'Description',
  'VpcId',
  'VSwitchId',
  'ZoneId',
  'CidrBlock',
  'IpProtocol',
  'PortRange',
  'SourcePortRange',
  'SourceCidrIp',
  'DestCidrIp',
  'Ipv6SourceCidrIp',
  'Ipv6DestCidrIp',
  'SourceGroupId',
  'DestGroupId',
  'SourceGroupOwnerAccount',
  'SourceGroupOwnerId',
  'DestGroupOwnerAccount',
  'DestGroupOwnerId',
  'Policy',
  'Priority',
  'NicType',
  'Direction',
  'InnerAccessPolicy',
  'Permissions.1.IpProtocol',
  'Permissions.1.PortRange',
  'Permissions.1.SourceCidrIp',
  'Tag.1.Key',
  'Tag.1.Value',
  'TagKey.1',
  'ResourceId.1',
  'ResourceId',
  'ResourceType',
  'ResourceGroupId',
  'NewResourceGroupId',
  'NetworkInterfaceId',
  'NetworkInterfaceId.1',
  'NetworkInterfaceName',
  'PrimaryIpAddress',
  'PrivateIpAddress.1',
  'SecondaryPrivateIpAddressCount',
  'QueueNumber',
  'SourceDestCheck',
  'DeleteOnRelease',
  'InstanceId',
  'PageNumber',
  'PageSize',
  'MaxResults',
  'NextToken',
  'FuzzyQuery',
  'NetworkType',
  'ClientToken',
  'All',
  'AcceptLanguage',
  'State',
  'StateGzip',
  'ExposurePort.1',
  'Add.1.Direction',
  'Add.1.IpProtocol',
  'Remove.1',
  'PeerIp',
  'PeerPort',
  'LocalPort',
  'LocalIp',
  'SourceNetworkInterfaceId',
  'DestNetworkInterfaceId',
  'SourcePort',
  'DestPort',
  'VpcName',
  'VSwitchName',
  'EnableIPv6',
  'Ipv6CidrBlock',
  'IsDefault',
  'RouteTableId',
  'RouterId',
  'RouterType',
  'RouteTableType',
  'Status',
  'Type',
  'Format',
  'Version',
  'Action',
  'Timestamp',
  'SignatureNonce',
  'SecurityToken',
];

export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toJSON',
  'then',
  'length',
];

const INDICES = [
  '0',
  '-1',
  '00',
  '01',
  '1.5',
  '1e2',
  ' 1',
  '',
  'x',
  '٣',
  '100',
  '101',
  '99999',
  '999999',
  '1000000',
  '4294967296',
  '9'.repeat(30),
];

/** Ids the fuzzer knows (from its set-up and from what it created), by kind. */
export interface KnownIds {
  groups: string[];
  enis: string[];
  vpcs: string[];
  vswitches: string[];
  rules: string[];
}

export function idValues(ids: KnownIds): string[] {
  return [
    ...ids.groups,
    ...ids.enis,
    ...ids.vpcs,
    ...ids.vswitches,
    ...ids.rules,
    'sg-',
    'sg-x',
    'sg-00000000000000000000',
    `sg-${'a'.repeat(200)}`,
    'SG-ABC',
    'eni-00000000000000000000',
    'vpc-00000000000000000000',
    'vsw-00000000000000000000',
    'sgr-00000000000000000000',
    'vtb-00000000000000000000',
    'rg-acfmxxxxxxxxxxx',
    'rg-',
    'rg-!',
    'i-00000000000000000000',
    '["sg-1","sg-2"]',
    '[',
  ];
}

/** A long string of one of a few shapes. */
function long(rng: Rng): string {
  const n = rng.pick(LONG_SIZES);
  const unit = rng.pick(['a', '中', '\ud83d\ude00', '%', ' ', 'ab/', '\u0000', 'é']);
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** A value meant for parameter `key`: mostly of its kind, sometimes anything. */
export function valueFor(rng: Rng, key: string, ids: KnownIds): string {
  const k = key.replace(/^(Permissions|Add)\.\d+\./, '');
  if (rng.chance(0.55)) {
    if (/Cidr|IpAddress$|PeerIp|LocalIp|PrivateIpAddress/.test(k)) return rng.pick(CIDRS);
    if (/PortRange/.test(k)) return rng.pick(PORTS);
    if (/IpProtocol/.test(k)) return rng.pick(PROTOCOLS);
    if (/Policy/.test(k)) return rng.pick(POLICIES);
    if (/Direction/.test(k)) return rng.pick(DIRECTIONS);
    if (/NicType/.test(k)) return rng.pick(NIC_TYPES);
    if (k === 'RegionId') return rng.pick(REGIONS);
    if (k === 'ZoneId') return rng.pick(ZONES);
    if (k === 'Format') return rng.pick(FORMATS);
    if (k === 'Version') return rng.pick(VERSIONS);
    if (k === 'Action') return rng.pick(ACTION_NAMES);
    if (k === 'AcceptLanguage') return rng.pick(LANGUAGES);
    if (/Port$|Priority|Page|MaxResults|QueueNumber|Count|ExposurePort/.test(k)) {
      return rng.pick(NUMBERS);
    }
    if (/Check|Release|All$|FuzzyQuery|IsDefault|EnableIPv6/.test(k)) return rng.pick(BOOLEANS);
    if (/Id(\.\d+)?$|Ids$|Remove\.\d+$|Account$/.test(k)) return rng.pick(idValues(ids));
  }
  return anyValue(rng, ids);
}

export function anyValue(rng: Rng, ids: KnownIds): string {
  switch (rng.int(9)) {
    case 0:
      return rng.pick(NUMBERS);
    case 1:
      return rng.pick(BOOLEANS);
    case 2:
      return rng.pick(BLANK);
    case 3:
      return rng.pick(SYNTAX);
    case 4:
    case 5:
      return rng.pick(UNICODE);
    case 6:
      return long(rng);
    case 7:
      return rng.pick(idValues(ids));
    default:
      return rng.pick([...CIDRS, ...PORTS, ...PROTOCOLS]);
  }
}

/** A small edit of `v`: a character added, removed or changed, case, blanks, a repeat. */
function tweak(rng: Rng, v: string): string {
  switch (rng.int(9)) {
    case 0:
      return v + rng.pick(UNICODE);
    case 1:
      return rng.pick(UNICODE) + v;
    case 2:
      return v.slice(0, rng.int(v.length + 1));
    case 3:
      return v.toUpperCase() === v ? v.toLowerCase() : v.toUpperCase();
    case 4:
      return ` ${v} `;
    case 5:
      return v.repeat(rng.range(2, 40));
    case 6: {
      const at = rng.int(v.length + 1);
      return v.slice(0, at) + rng.pick([...SYNTAX, ...UNICODE]) + v.slice(at);
    }
    case 7:
      return `${v},${v}`;
    default:
      return v.replace(/\d/g, () => String(rng.int(10)));
  }
}

/** A variant of parameter name `k`: other case, an index changed, a prototype name, garbage. */
function renamed(rng: Rng, k: string): string {
  switch (rng.int(8)) {
    case 0:
      return rng.pick(PROTOTYPE_NAMES);
    case 1:
      return k.toLowerCase();
    case 2:
      return `${k}.`;
    case 3:
      return `${k}.1`;
    case 4:
      return k.replace(/\.\d+/, `.${rng.pick(INDICES)}`);
    case 5:
      return `${k}${rng.pick(UNICODE)}`;
    case 6:
      return rng.pick(['', '.', '..', '.1', 'Permissions', 'Tag', 'Tag.1', 'Add.1', `${k}.Key`]);
    default:
      return rng.pick(PARAM_NAMES);
  }
}

/** Many indexed items at once: past every limit (100 permissions, 20 tags, 50 ids, 5 groups). */
function flood(rng: Rng, ids: KnownIds): Pairs {
  const out: Pairs = [];
  const n = rng.pick([6, 21, 51, 101, 150, 1001]);
  switch (rng.int(6)) {
    case 0:
      for (let i = 1; i <= n; i++) {
        out.push([`Permissions.${i}.IpProtocol`, 'tcp']);
        out.push([`Permissions.${i}.PortRange`, `${i}/${i}`]);
        out.push([`Permissions.${i}.SourceCidrIp`, `10.${i % 256}.0.0/16`]);
      }
      break;
    case 1:
      for (let i = 1; i <= n; i++) {
        out.push([`Tag.${i}.Key`, `k${i}`]);
        out.push([`Tag.${i}.Value`, `v${i}`]);
      }
      break;
    case 2:
      for (let i = 1; i <= n; i++) out.push([`ResourceId.${i}`, rng.pick(idValues(ids))]);
      break;
    case 3:
      for (let i = 1; i <= n; i++) out.push([`SecurityGroupId.${i}`, rng.pick(idValues(ids))]);
      break;
    case 4:
      for (let i = 1; i <= n; i++) out.push([`PrivateIpAddress.${i}`, `10.1.${i >> 8}.${i & 255}`]);
      break;
    default:
      for (let i = 1; i <= n; i++) out.push([`P${i}`, String(i)]);
  }
  return out;
}

const COMMON = new Set(['Action', 'Version', 'Format']);

/**
 * Mutates `pairs` in place (1 to 4 mutations, `Action`/`Version`/`Format` rarely); returns the
 * names of the mutations done, for the counts.
 */
export function mutateParams(rng: Rng, pairs: Pairs, ids: KnownIds): string[] {
  const done: string[] = [];
  const n = rng.weighted([
    [50, 1],
    [30, 2],
    [15, 3],
    [5, 4],
  ]);
  for (let i = 0; i < n; i++) {
    const business = pairs.map((_, j) => j).filter((j) => !COMMON.has(pairs[j]![0]));
    const target = business.length > 0 ? rng.pick(business) : -1;
    const op = rng.weighted([
      [30, 'value'],
      [14, 'tweak'],
      [8, 'name'],
      [8, 'index'],
      [8, 'drop'],
      [6, 'duplicate'],
      [8, 'add'],
      [3, 'action'],
      [3, 'version'],
      [5, 'format'],
      [3, 'prototype'],
      [2, 'flood'],
      [2, 'huge'],
    ] as const);
    const pair = target >= 0 ? pairs[target]! : undefined;
    switch (op) {
      case 'value':
        if (pair) pair[1] = valueFor(rng, pair[0], ids);
        break;
      case 'tweak':
        if (pair) pair[1] = tweak(rng, pair[1]);
        break;
      case 'name':
        if (pair) pair[0] = renamed(rng, pair[0]);
        break;
      case 'index': {
        const indexed = business.filter((j) => /\.\d+/.test(pairs[j]![0]));
        if (indexed.length > 0) {
          const p = pairs[rng.pick(indexed)]!;
          p[0] = p[0].replace(/\.\d+/, `.${rng.pick(INDICES)}`);
        } else if (pair) {
          pair[0] = `${pair[0]}.${rng.pick(INDICES)}`;
        }
        break;
      }
      case 'drop':
        if (rng.chance(0.15)) {
          const common = pairs.findIndex(([k]) => COMMON.has(k));
          if (common >= 0) pairs.splice(common, 1);
        } else if (target >= 0) pairs.splice(target, 1);
        break;
      case 'duplicate':
        if (pair) {
          const copy: [string, string] = [pair[0], rng.chance(0.3) ? pair[1] : anyValue(rng, ids)];
          pairs.splice(rng.int(pairs.length + 1), 0, copy);
        }
        break;
      case 'add': {
        const k = rng.pick(PARAM_NAMES);
        pairs.splice(rng.int(pairs.length + 1), 0, [k, valueFor(rng, k, ids)]);
        break;
      }
      case 'action':
        setParam(pairs, 'Action', rng.pick(ACTION_NAMES));
        break;
      case 'version':
        setParam(pairs, 'Version', rng.pick(VERSIONS));
        break;
      case 'format':
        setParam(pairs, 'Format', rng.pick(FORMATS));
        break;
      case 'prototype':
        pairs.splice(rng.int(pairs.length + 1), 0, [
          rng.pick(PROTOTYPE_NAMES),
          rng.chance(0.5) ? anyValue(rng, ids) : '1',
        ]);
        break;
      case 'flood':
        pairs.push(...flood(rng, ids));
        break;
      case 'huge':
        if (pair) pair[1] = 'x'.repeat(rng.pick([10_000, 100_000, 300_000]));
        break;
    }
    done.push(op);
  }
  return done;
}

export function setParam(pairs: Pairs, key: string, value: string): void {
  const i = pairs.findIndex(([k]) => k === key);
  if (i >= 0) pairs[i]![1] = value;
  else pairs.push([key, value]);
}

// ---------------------------------------------------------------------------------------
// State documents (ImportState)

const JSON_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e21,
  '',
  ' ',
  'x',
  '\u0000',
  '\ud800',
  '\udc00x',
  '\ufffe',
  'a'.repeat(600),
  [],
  [null],
  [[]],
  {},
  { toString: 1 },
  { valueOf: {}, toString: {} },
  { __proto__x: 1 },
  ['sg-1', 2],
  'sg-00000000000000000000',
  '10.0.0.0/8',
  '1/65535',
  '2026-13-45T99:99:99Z',
  'ecs-secgroup/state',
];

/** A JSON text for a value: `{"__proto__": …}` written literally, which JSON.parse keeps. */
function jsonText(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && '__proto__x' in v) {
    return '{"__proto__":{"Key":"k","toString":1}}';
  }
  return JSON.stringify(v);
}

/** Paths of every value of a JSON document. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      paths(x, [...at, i], out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  }
  return out;
}

/** A mutated copy of state document `doc`, as JSON text. */
export function mutateState(rng: Rng, doc: unknown): string {
  if (rng.chance(0.08)) return rng.pick(STATE_TEXTS)(rng);
  const copy = structuredClone(doc) as Record<string, unknown>;
  const edits: string[] = [];
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const all = paths(copy).filter((p) => p.length > 0);
    if (all.length === 0) break;
    const p = rng.pick(all);
    let parent: unknown = copy;
    for (const step of p.slice(0, -1)) parent = (parent as Record<string, unknown>)[step];
    if (parent === null || typeof parent !== 'object') continue;
    const last = p[p.length - 1]!;
    const holder = parent as Record<string | number, unknown>;
    const placeholder = `@@${edits.length}@@`;
    switch (rng.int(5)) {
      case 0:
        if (Array.isArray(holder)) holder.splice(Number(last), 1);
        else delete holder[last];
        break;
      case 1:
        holder[last] = placeholder;
        edits.push(jsonText(rng.pick(JSON_VALUES)));
        break;
      case 2:
        if (typeof holder[last] === 'string') holder[last] = tweak(rng, holder[last] as string);
        else holder[last] = String(holder[last]);
        break;
      case 3:
        if (Array.isArray(holder)) holder.push(structuredClone(holder[Number(last)]));
        else holder[`${String(last)}${rng.pick(['', 'x', '.1'])}`] = holder[last];
        break;
      default:
        // a key named like a property of Object.prototype (on an array: one more item)
        if (Array.isArray(holder)) holder.push(placeholder);
        else holder[rng.pick(PROTOTYPE_NAMES)] = placeholder;
        edits.push(jsonText(rng.pick(JSON_VALUES)));
    }
  }
  let text = JSON.stringify(copy);
  edits.forEach((e, i) => {
    text = text.replace(`"@@${i}@@"`, e);
  });
  if (rng.chance(0.05)) text = text.slice(0, rng.int(text.length));
  return text;
}

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

/** Whole documents of hostile shapes. */
const STATE_TEXTS: ((rng: Rng) => string)[] = [
  () => '',
  () => 'null',
  () => '[]',
  () => '"x"',
  () => '{}',
  () => '{"Schema":"ecs-secgroup/state","SchemaVersion":1}',
  () => '{"Schema":"ecs-secgroup/state","SchemaVersion":1,"SecurityGroups":{}}',
  () => '{"Schema":"ecs-secgroup/state","SchemaVersion":1,"SecurityGroups":[{"toString":1}]}',
  () =>
    '{"Schema":"ecs-secgroup/state","SchemaVersion":1,"SecurityGroups":[{"RegionId":"cn-hangzhou","Tags":[{"Key":{"toString":1},"Value":"v"}]}]}',
  () =>
    '{"Schema":"ecs-secgroup/state","SchemaVersion":1,"SecurityGroups":[{"RegionId":"cn-hangzhou","Tags":[{"Key":"k","Value":{"valueOf":{},"toString":{}}}]}]}',
  () => '{"__proto__":{"Schema":"ecs-secgroup/state"},"SchemaVersion":1}',
  (rng) => deep(rng.pick([100, 1000, 10_000, 100_000])),
  (rng) =>
    `{"Schema":"ecs-secgroup/state","SchemaVersion":1,"SecurityGroups":[${'{"a":'.repeat(rng.pick([100, 5000]))}1${'}'.repeat(5000)}]}`,
  (rng) => `"${'\\ud800'.repeat(rng.pick([1, 1000]))}"`,
];

/** Gzipped documents for StateGzip, base64: made once (some are large when unpacked). */
let zipped: string[] | undefined;

export function stateGzipValues(): string[] {
  zipped ??= [
    gzipSync('{}').toString('base64'),
    gzipSync('not json').toString('base64'),
    gzipSync(Buffer.from([0xff, 0xfe, 0x00])).toString('base64'),
    // unpacks to 15 MiB of nesting: cheap to send, seconds to parse
    gzipSync('['.repeat(15 << 20), { level: 9 }).toString('base64'),
    // unpacks to 64 MiB of one JSON string
    gzipSync(`"${'a'.repeat(64 << 20)}"`, { level: 9 }).toString('base64'),
    'not base64!',
    '',
    'H4sI',
    gzipSync('{}').toString('base64').slice(0, 10),
  ];
  return zipped;
}
