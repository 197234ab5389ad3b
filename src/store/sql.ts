/**
 * The Tx implementation shared by both SQL stores: portable SQL with `?`
 * placeholders over a small executor; dialect differences stay in the executor.
 */

import {
  type Change,
  type ChangeLogEntry,
  type ChangeLogState,
  DuplicateRuleError,
  type IdempotencyRecord,
  type LoggedChange,
  type NewRule,
  type Tx,
} from '../domain/store.js';
import type {
  GroupRef,
  NetworkInterface,
  PortRange,
  Rule,
  SecurityGroup,
  Vpc,
  VSwitch,
} from '../domain/types.js';

export type Row = Record<string, unknown>;

export interface Executor {
  all(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  run(sql: string, params?: readonly unknown[]): Promise<void>;
  /** Inserts and returns the generated `seq`. */
  insertReturningSeq(sql: string, params: readonly unknown[]): Promise<number>;
  /** Serialises transactions that use the same key until commit (no-op where writes are serial). */
  lock(key: string): Promise<void>;
  /** Appended to a SELECT to lock the rows it reads. */
  readonly forUpdate: string;
  /**
   * The change log's positions: `seq` where one writer commits in order (SQLite); on
   * PostgreSQL `txid`, visible below `horizon` (the oldest transaction id still running:
   * every transaction below it has ended), so no later commit can take a lower position.
   */
  readonly changeLog: { position: string; horizon: string | null };
  isUniqueViolation(err: unknown): boolean;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const tags = (v: unknown) => JSON.parse(str(v) || '[]');

function toGroup(r: Row): SecurityGroup {
  return {
    id: str(r.id),
    ownerUid: str(r.owner_uid),
    regionId: str(r.region_id),
    name: str(r.name),
    description: str(r.description),
    vpcId: optStr(r.vpc_id),
    type: str(r.type) as SecurityGroup['type'],
    innerAccessPolicy: str(r.inner_access_policy) as SecurityGroup['innerAccessPolicy'],
    resourceGroupId: str(r.resource_group_id),
    tags: tags(r.tags),
    creationTime: str(r.creation_time),
  };
}

function range(from: unknown, to: unknown): PortRange | null {
  return from === null || from === undefined ? null : { from: Number(from), to: Number(to) };
}

function toRule(r: Row): Rule {
  const peerGroupId = optStr(r.peer_group_id);
  return {
    id: str(r.id),
    seq: Number(r.seq),
    securityGroupId: str(r.group_id),
    direction: str(r.direction) as Rule['direction'],
    protocol: str(r.protocol) as Rule['protocol'],
    portRange: range(r.port_from, r.port_to)!,
    sourcePortRange: range(r.sport_from, r.sport_to),
    nicType: str(r.nic_type) as Rule['nicType'],
    policy: str(r.policy) as Rule['policy'],
    priority: Number(r.priority),
    peerCidr: optStr(r.peer_cidr),
    peerIpv6Cidr: optStr(r.peer_ipv6_cidr),
    peerGroup: peerGroupId ? { groupId: peerGroupId, ownerUid: str(r.peer_group_owner) } : null,
    localCidr: optStr(r.local_cidr),
    localIpv6Cidr: optStr(r.local_ipv6_cidr),
    // null: as normalised (rules made before the spelling was kept, or written so)
    peerCidrText: optStr(r.peer_text),
    localCidrText: optStr(r.local_text),
    description: str(r.description),
    createTime: str(r.create_time),
  };
}

function ruleColumns(r: NewRule, identity: string): unknown[] {
  return [
    r.securityGroupId,
    r.direction,
    r.protocol,
    r.portRange.from,
    r.portRange.to,
    r.sourcePortRange?.from ?? null,
    r.sourcePortRange?.to ?? null,
    r.nicType,
    r.policy,
    r.priority,
    r.peerCidr,
    r.peerIpv6Cidr,
    r.peerGroup?.groupId ?? null,
    r.peerGroup?.ownerUid ?? null,
    r.localCidr,
    r.localIpv6Cidr,
    r.peerCidrText,
    r.localCidrText,
    r.description,
    r.createTime,
    identity,
  ];
}

const RULE_COLS =
  'group_id, direction, protocol, port_from, port_to, sport_from, sport_to, nic_type, policy, priority, ' +
  'peer_cidr, peer_ipv6_cidr, peer_group_id, peer_group_owner, local_cidr, local_ipv6_cidr, ' +
  'peer_text, local_text, description, create_time, identity';
const RULE_PLACEHOLDERS = RULE_COLS.split(', ')
  .map(() => '?')
  .join(',');

function toVpc(r: Row): Vpc {
  return {
    id: str(r.id),
    ownerUid: str(r.owner_uid),
    regionId: str(r.region_id),
    cidrBlock: str(r.cidr_block),
    name: str(r.name),
    description: str(r.description),
    resourceGroupId: str(r.resource_group_id),
    tags: tags(r.tags),
    creationTime: str(r.creation_time),
  };
}

function toVSwitch(r: Row): VSwitch {
  return { ...toVpc(r), vpcId: str(r.vpc_id), zoneId: str(r.zone_id) };
}

function toInterface(r: Row): NetworkInterface {
  return {
    id: str(r.id),
    ownerUid: str(r.owner_uid),
    regionId: str(r.region_id),
    vpcId: str(r.vpc_id),
    vSwitchId: str(r.vswitch_id),
    zoneId: str(r.zone_id),
    primaryIpAddress: str(r.primary_ip),
    secondaryIpAddresses: JSON.parse(str(r.secondary_ips) || '[]'),
    name: str(r.name),
    description: str(r.description),
    securityGroupIds: JSON.parse(str(r.group_ids) || '[]'),
    resourceGroupId: str(r.resource_group_id),
    tags: tags(r.tags),
    queueNumber: Number(r.queue_number ?? 1),
    sourceDestCheck: Number(r.source_dest_check ?? 0) === 1,
    deleteOnRelease: Number(r.delete_on_release ?? 1) === 1,
    creationTime: str(r.creation_time),
  };
}

/**
 * Rules by group, for a store whose one connection runs every transaction in turn
 * (SQLite): what a transaction reads is then what is committed or its own writes.
 * Every rule write drops its group's entry; the store clears it all when a transaction
 * rolls back or a COMMIT fails.
 */
export class RuleCache {
  private readonly byGroup = new Map<string, readonly Rule[]>();
  get(groupId: string): readonly Rule[] | undefined {
    return this.byGroup.get(groupId);
  }
  set(groupId: string, rules: readonly Rule[]): void {
    this.byGroup.set(groupId, rules);
  }
  drop(groupId: string): void {
    this.byGroup.delete(groupId);
  }
  clear(): void {
    this.byGroup.clear();
  }
}

/** How many entries the change log keeps by default (older ones are deleted). */
export const DEFAULT_CHANGE_LOG_RETENTION = 100_000;
/** Old entries are deleted when the appended position is a multiple of this (or of the retention). */
const TRIM_EVERY = 256;

/** After the append numbered `seq`: the last `seq` to delete now, if it is time to trim. */
export function changeLogTrim(seq: number, retention: number): number | undefined {
  return seq % Math.min(TRIM_EVERY, retention) === 0 && seq > retention
    ? seq - retention
    : undefined;
}

type Scope = { ownerUid: string; regionId: string };

export class SqlTx implements Tx {
  /** What this transaction changed, for subscribers after commit. */
  readonly changes: Change[] = [];
  /** The same changes as the change log records them (see `appendChangeLog`). */
  readonly logged: LoggedChange[] = [];
  /** Owner and region of the groups this transaction read or wrote. */
  private readonly scopes = new Map<string, Scope>();

  constructor(
    private readonly db: Executor,
    private readonly cache?: RuleCache,
  ) {}

  private remember(g: SecurityGroup | undefined): SecurityGroup | undefined {
    if (g) this.scopes.set(g.id, { ownerUid: g.ownerUid, regionId: g.regionId });
    return g;
  }

  /** The owner and region of a group, read once per transaction. */
  private async scopeOf(groupId: string): Promise<Scope> {
    let s = this.scopes.get(groupId);
    if (s === undefined) {
      const rows = await this.db.all(
        'SELECT owner_uid, region_id FROM security_groups WHERE id = ?',
        [groupId],
      );
      s = { ownerUid: str(rows[0]?.owner_uid), regionId: str(rows[0]?.region_id) };
      this.scopes.set(groupId, s);
    }
    return s;
  }

  private async logRule(id: string, groupId: string): Promise<void> {
    this.logged.push({ kind: 'rule', id, ...(await this.scopeOf(groupId)) });
  }

  private async groupsOfInterface(id: string): Promise<string[]> {
    const rows = await this.db.all(
      'SELECT group_id FROM interface_groups WHERE interface_id = ? ORDER BY group_id',
      [id],
    );
    return rows.map((r) => str(r.group_id));
  }

  private logInterface(
    e: Scope & { id: string },
    before: readonly string[],
    after: readonly string[],
  ) {
    const groupIds = [...new Set([...before, ...after])].sort();
    this.logged.push({
      kind: 'interface',
      id: e.id,
      ownerUid: e.ownerUid,
      regionId: e.regionId,
      groupIds,
    });
  }

  /**
   * Appends what this transaction changed to the change log, as the store's last statement
   * before COMMIT (positions: see Executor.changeLog). Now and then (every TRIM_EVERY
   * appends, or every `retention`) the entries more than `retention` appends old are
   * deleted. Returns the append's `seq`, or undefined when nothing was changed.
   */
  async appendChangeLog(nowMs: number, retention: number): Promise<number | undefined> {
    const row = this.changeLogRow(nowMs);
    if (row === undefined) return undefined;
    const seq = await this.db.insertReturningSeq(
      'INSERT INTO change_log (committed_at, entries) VALUES (?, ?)',
      row,
    );
    const upto = changeLogTrim(seq, retention);
    if (upto !== undefined) {
      // positions at or before the last one deleted can no longer resume
      const last = await this.db.all(
        `SELECT MAX(${this.db.changeLog.position}) AS pos FROM change_log WHERE seq <= ?`,
        [upto],
      );
      const pos = Number(last[0]?.pos ?? 0);
      await this.db.run('DELETE FROM change_log WHERE seq <= ?', [upto]);
      await this.db.run('UPDATE change_log_state SET trimmed_upto = ? WHERE trimmed_upto < ?', [
        pos,
        pos,
      ]);
    }
    return seq;
  }

  /** The change-log row of what this transaction changed (committed_at, entries), if any. */
  changeLogRow(nowMs: number): [number, string] | undefined {
    if (this.logged.length === 0) return undefined;
    return [nowMs, JSON.stringify(this.logged.map(compactLogged))];
  }

  private async one<T>(sql: string, params: unknown[], map: (r: Row) => T): Promise<T | undefined> {
    const rows = await this.db.all(sql, params);
    return rows[0] === undefined ? undefined : map(rows[0]);
  }

  private async count(sql: string, params: unknown[]): Promise<number> {
    const rows = await this.db.all(sql, params);
    return Number(rows[0]?.n ?? 0);
  }

  lock(key: string): Promise<void> {
    return this.db.lock(key);
  }

  // --- groups
  async insertGroup(g: SecurityGroup): Promise<void> {
    await this.db.run(
      'INSERT INTO security_groups (id, owner_uid, region_id, name, description, vpc_id, type, ' +
        'inner_access_policy, resource_group_id, tags, creation_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
      [
        g.id,
        g.ownerUid,
        g.regionId,
        g.name,
        g.description,
        g.vpcId,
        g.type,
        g.innerAccessPolicy,
        g.resourceGroupId,
        JSON.stringify(g.tags),
        g.creationTime,
      ],
    );
    this.changes.push({ kind: 'group', id: g.id, group: g });
    this.remember(g);
    this.logged.push({ kind: 'group', id: g.id, ownerUid: g.ownerUid, regionId: g.regionId });
  }
  async getGroup(id: string) {
    return this.remember(
      await this.one('SELECT * FROM security_groups WHERE id = ?', [id], toGroup),
    );
  }
  async lockGroup(id: string) {
    return this.remember(
      await this.one(
        `SELECT * FROM security_groups WHERE id = ?${this.db.forUpdate}`,
        [id],
        toGroup,
      ),
    );
  }
  async updateGroup(g: SecurityGroup): Promise<void> {
    await this.db.run(
      'UPDATE security_groups SET name = ?, description = ?, inner_access_policy = ?, tags = ?, ' +
        'resource_group_id = ? WHERE id = ?',
      [g.name, g.description, g.innerAccessPolicy, JSON.stringify(g.tags), g.resourceGroupId, g.id],
    );
    this.changes.push({ kind: 'group', id: g.id, group: g });
    this.remember(g);
    this.logged.push({ kind: 'group', id: g.id, ownerUid: g.ownerUid, regionId: g.regionId });
  }
  async deleteGroup(id: string): Promise<void> {
    const scope = await this.scopeOf(id);
    for (const r of await this.listRules(id)) {
      this.changes.push({ kind: 'rule', id: r.id, rule: null });
      this.logged.push({ kind: 'rule', id: r.id, ...scope });
    }
    await this.db.run('DELETE FROM rules WHERE group_id = ?', [id]);
    this.cache?.drop(id);
    await this.db.run('DELETE FROM security_groups WHERE id = ?', [id]);
    this.changes.push({ kind: 'group', id, group: null });
    this.logged.push({ kind: 'group', id, ...scope });
  }
  async listGroups(ownerUid: string, regionId: string): Promise<SecurityGroup[]> {
    const rows = await this.db.all(
      'SELECT * FROM security_groups WHERE owner_uid = ? AND region_id = ? ORDER BY seq',
      [ownerUid, regionId],
    );
    return rows.map((r) => this.remember(toGroup(r))!);
  }
  async lockGroupQuota(ownerUid: string, regionId: string): Promise<number> {
    await this.db.lock(`group-quota:${ownerUid}:${regionId}`);
    return this.count(
      'SELECT COUNT(*) AS n FROM security_groups WHERE owner_uid = ? AND region_id = ?',
      [ownerUid, regionId],
    );
  }

  // --- rules
  async insertRule(r: NewRule, identity: string): Promise<Rule> {
    let seq: number;
    try {
      seq = await this.db.insertReturningSeq(
        `INSERT INTO rules (id, ${RULE_COLS}) VALUES (?,${RULE_PLACEHOLDERS})`,
        [r.id, ...ruleColumns(r, identity)],
      );
    } catch (e) {
      if (this.db.isUniqueViolation(e)) throw new DuplicateRuleError(identity);
      throw e;
    }
    const rule: Rule = { ...r, seq };
    this.cache?.drop(rule.securityGroupId);
    this.changes.push({ kind: 'rule', id: rule.id, rule });
    await this.logRule(rule.id, rule.securityGroupId);
    return rule;
  }
  async updateRule(r: Rule, identity: string): Promise<void> {
    const cols = RULE_COLS.split(', ')
      .map((c) => `${c} = ?`)
      .join(', ');
    try {
      await this.db.run(`UPDATE rules SET ${cols} WHERE id = ?`, [
        ...ruleColumns(r, identity),
        r.id,
      ]);
    } catch (e) {
      if (this.db.isUniqueViolation(e)) throw new DuplicateRuleError(identity);
      throw e;
    }
    this.cache?.drop(r.securityGroupId);
    this.changes.push({ kind: 'rule', id: r.id, rule: r });
    await this.logRule(r.id, r.securityGroupId);
  }
  async deleteRule(id: string): Promise<void> {
    const rows = await this.db.all('SELECT group_id FROM rules WHERE id = ?', [id]);
    const groupId = rows[0] ? String(rows[0].group_id) : undefined;
    if (groupId !== undefined) this.cache?.drop(groupId);
    await this.db.run('DELETE FROM rules WHERE id = ?', [id]);
    this.changes.push({ kind: 'rule', id, rule: null });
    if (groupId !== undefined) await this.logRule(id, groupId);
  }
  getRule(id: string) {
    return this.one('SELECT * FROM rules WHERE id = ?', [id], toRule);
  }
  async listRules(groupId: string): Promise<Rule[]> {
    const cached = this.cache?.get(groupId);
    if (cached) return cached.slice();
    const rows = await this.db.all('SELECT * FROM rules WHERE group_id = ? ORDER BY seq', [
      groupId,
    ]);
    const rules = rows.map(toRule);
    this.cache?.set(groupId, rules.slice());
    return rules;
  }
  countRules(groupId: string) {
    return this.count('SELECT COUNT(*) AS n FROM rules WHERE group_id = ?', [groupId]);
  }
  async groupVersions(groupIds: readonly string[]) {
    const out = new Map<string, number>();
    if (groupIds.length === 0) return out;
    const rows = await this.db.all(
      `SELECT id, version FROM security_groups WHERE id IN (${groupIds.map(() => '?').join(', ')})`,
      [...groupIds],
    );
    for (const r of rows) out.set(str(r.id), Number(r.version));
    return out;
  }
  async ruleCensus(groupId: string, identities: readonly string[]) {
    const marks = identities.map(() => '?').join(', ');
    const rows = await this.db.all(
      'SELECT c.n AS census_n, r.* FROM (SELECT COUNT(*) AS n FROM rules WHERE group_id = ?) c ' +
        (identities.length === 0
          ? 'LEFT JOIN rules r ON 1 = 0'
          : `LEFT JOIN rules r ON r.group_id = ? AND r.identity IN (${marks})`),
      identities.length === 0 ? [groupId] : [groupId, groupId, ...identities],
    );
    const found = new Map<string, Rule>();
    for (const r of rows)
      if (r.id !== null && r.id !== undefined) found.set(str(r.identity), toRule(r));
    return { count: Number(rows[0]?.census_n ?? 0), found };
  }
  findRuleByIdentity(groupId: string, identity: string) {
    return this.one(
      'SELECT * FROM rules WHERE group_id = ? AND identity = ?',
      [groupId, identity],
      toRule,
    );
  }
  async listRulesReferencing(groupId: string): Promise<Rule[]> {
    return (
      await this.db.all('SELECT * FROM rules WHERE peer_group_id = ? ORDER BY seq', [groupId])
    ).map(toRule);
  }

  // --- VPCs
  async insertVpc(v: Vpc): Promise<void> {
    await this.db.run(
      'INSERT INTO vpcs (id, owner_uid, region_id, cidr_block, name, description, resource_group_id, ' +
        'tags, creation_time) VALUES (?,?,?,?,?,?,?,?,?)',
      [
        v.id,
        v.ownerUid,
        v.regionId,
        v.cidrBlock,
        v.name,
        v.description,
        v.resourceGroupId,
        JSON.stringify(v.tags),
        v.creationTime,
      ],
    );
  }
  async updateVpc(v: Vpc): Promise<void> {
    await this.db.run(
      'UPDATE vpcs SET cidr_block = ?, name = ?, description = ?, resource_group_id = ?, tags = ? WHERE id = ?',
      [v.cidrBlock, v.name, v.description, v.resourceGroupId, JSON.stringify(v.tags), v.id],
    );
  }
  getVpc(id: string) {
    return this.one('SELECT * FROM vpcs WHERE id = ?', [id], toVpc);
  }
  async listVpcs(ownerUid: string, regionId: string): Promise<Vpc[]> {
    return (
      await this.db.all('SELECT * FROM vpcs WHERE owner_uid = ? AND region_id = ? ORDER BY seq', [
        ownerUid,
        regionId,
      ])
    ).map(toVpc);
  }
  async deleteVpc(id: string): Promise<void> {
    await this.db.run('DELETE FROM vpcs WHERE id = ?', [id]);
  }
  countGroupsInVpc(vpcId: string) {
    return this.count('SELECT COUNT(*) AS n FROM security_groups WHERE vpc_id = ?', [vpcId]);
  }

  // --- vSwitches and interfaces
  async insertVSwitch(v: VSwitch): Promise<void> {
    await this.db.run(
      'INSERT INTO vswitches (id, owner_uid, region_id, vpc_id, zone_id, cidr_block, name, description, ' +
        'resource_group_id, tags, creation_time) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
      [
        v.id,
        v.ownerUid,
        v.regionId,
        v.vpcId,
        v.zoneId,
        v.cidrBlock,
        v.name,
        v.description,
        v.resourceGroupId,
        JSON.stringify(v.tags),
        v.creationTime,
      ],
    );
  }
  async updateVSwitch(v: VSwitch): Promise<void> {
    await this.db.run(
      'UPDATE vswitches SET name = ?, description = ?, resource_group_id = ?, tags = ? WHERE id = ?',
      [v.name, v.description, v.resourceGroupId, JSON.stringify(v.tags), v.id],
    );
  }
  getVSwitch(id: string) {
    return this.one('SELECT * FROM vswitches WHERE id = ?', [id], toVSwitch);
  }
  async listVSwitches(vpcId: string): Promise<VSwitch[]> {
    return (
      await this.db.all('SELECT * FROM vswitches WHERE vpc_id = ? ORDER BY seq', [vpcId])
    ).map(toVSwitch);
  }
  async listVSwitchesOf(ownerUid: string, regionId: string): Promise<VSwitch[]> {
    return (
      await this.db.all(
        'SELECT * FROM vswitches WHERE owner_uid = ? AND region_id = ? ORDER BY seq',
        [ownerUid, regionId],
      )
    ).map(toVSwitch);
  }
  async deleteVSwitch(id: string): Promise<void> {
    await this.db.run('DELETE FROM vswitches WHERE id = ?', [id]);
  }
  async insertInterface(e: NetworkInterface): Promise<void> {
    await this.db.run(
      'INSERT INTO network_interfaces (id, owner_uid, region_id, vpc_id, vswitch_id, zone_id, primary_ip, ' +
        'secondary_ips, name, description, group_ids, resource_group_id, tags, queue_number, ' +
        'source_dest_check, delete_on_release, creation_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
      [
        e.id,
        e.ownerUid,
        e.regionId,
        e.vpcId,
        e.vSwitchId,
        e.zoneId,
        e.primaryIpAddress,
        JSON.stringify(e.secondaryIpAddresses),
        e.name,
        e.description,
        JSON.stringify(e.securityGroupIds),
        e.resourceGroupId,
        JSON.stringify(e.tags),
        e.queueNumber,
        e.sourceDestCheck ? 1 : 0,
        e.deleteOnRelease ? 1 : 0,
        e.creationTime,
      ],
    );
    await this.setMemberships(e);
    this.changes.push({ kind: 'interface', id: e.id, eni: e });
    this.logInterface(e, [], e.securityGroupIds);
  }
  private async setMemberships(e: NetworkInterface): Promise<void> {
    await this.db.run('DELETE FROM interface_groups WHERE interface_id = ?', [e.id]);
    for (const g of e.securityGroupIds) {
      await this.db.run('INSERT INTO interface_groups (interface_id, group_id) VALUES (?, ?)', [
        e.id,
        g,
      ]);
    }
  }
  getInterface(id: string) {
    return this.one('SELECT * FROM network_interfaces WHERE id = ?', [id], toInterface);
  }
  async updateInterface(e: NetworkInterface): Promise<void> {
    const before = await this.groupsOfInterface(e.id);
    await this.db.run(
      'UPDATE network_interfaces SET name = ?, description = ?, group_ids = ?, secondary_ips = ?, ' +
        'resource_group_id = ?, tags = ?, queue_number = ?, source_dest_check = ?, ' +
        'delete_on_release = ? WHERE id = ?',
      [
        e.name,
        e.description,
        JSON.stringify(e.securityGroupIds),
        JSON.stringify(e.secondaryIpAddresses),
        e.resourceGroupId,
        JSON.stringify(e.tags),
        e.queueNumber,
        e.sourceDestCheck ? 1 : 0,
        e.deleteOnRelease ? 1 : 0,
        e.id,
      ],
    );
    await this.setMemberships(e);
    this.changes.push({ kind: 'interface', id: e.id, eni: e });
    this.logInterface(e, before, e.securityGroupIds);
  }
  async deleteInterface(id: string): Promise<void> {
    const before = await this.groupsOfInterface(id);
    const rows = await this.db.all(
      'SELECT owner_uid, region_id FROM network_interfaces WHERE id = ?',
      [id],
    );
    await this.db.run('DELETE FROM interface_groups WHERE interface_id = ?', [id]);
    await this.db.run('DELETE FROM network_interfaces WHERE id = ?', [id]);
    this.changes.push({ kind: 'interface', id, eni: null });
    if (rows[0]) {
      const scope = { ownerUid: str(rows[0].owner_uid), regionId: str(rows[0].region_id) };
      this.logInterface({ id, ...scope }, before, []);
    }
  }
  async listInterfacesOf(ownerUid: string, regionId: string): Promise<NetworkInterface[]> {
    return (
      await this.db.all(
        'SELECT * FROM network_interfaces WHERE owner_uid = ? AND region_id = ? ORDER BY seq',
        [ownerUid, regionId],
      )
    ).map(toInterface);
  }
  async listInterfacesInVSwitch(vSwitchId: string): Promise<NetworkInterface[]> {
    return (
      await this.db.all('SELECT * FROM network_interfaces WHERE vswitch_id = ? ORDER BY seq', [
        vSwitchId,
      ])
    ).map(toInterface);
  }
  countInterfacesInGroup(groupId: string) {
    return this.count('SELECT COUNT(*) AS n FROM interface_groups WHERE group_id = ?', [groupId]);
  }

  // --- the change feed
  async changeLogState(): Promise<ChangeLogState> {
    const { position, horizon } = this.db.changeLog;
    const stable = horizon === null ? '' : ` WHERE ${position} < ${horizon}`;
    const state = await this.db.all('SELECT epoch, trimmed_upto FROM change_log_state');
    const head = await this.db.all(`SELECT MAX(${position}) AS head FROM change_log${stable}`);
    const settling =
      horizon !== null &&
      (await this.db.all(`SELECT 1 AS n FROM change_log WHERE ${position} >= ${horizon} LIMIT 1`))
        .length > 0;
    return {
      epoch: str(state[0]?.epoch),
      head: Number(head[0]?.head ?? 0),
      trimmedUpto: Number(state[0]?.trimmed_upto ?? 0),
      settling,
    };
  }
  async changeLogStamp(pos: number): Promise<number | undefined> {
    const rows = await this.db.all(
      `SELECT committed_at FROM change_log WHERE ${this.db.changeLog.position} = ?`,
      [pos],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].committed_at);
  }
  async changeLogAfter(pos: number, limit: number): Promise<ChangeLogEntry[]> {
    const { position, horizon } = this.db.changeLog;
    const stable = horizon === null ? '' : ` AND ${position} < ${horizon}`;
    const rows = await this.db.all(
      `SELECT ${position} AS pos, committed_at, entries FROM change_log ` +
        `WHERE ${position} > ?${stable} ORDER BY ${position} LIMIT ?`,
      [pos, limit],
    );
    return rows.map((r) => ({
      pos: Number(r.pos),
      committedAt: Number(r.committed_at),
      changes: (JSON.parse(str(r.entries)) as CompactLogged[]).map(expandLogged),
    }));
  }
  async listRulesOf(ownerUid: string, regionId: string): Promise<Rule[]> {
    return (
      await this.db.all(
        'SELECT r.* FROM rules r JOIN security_groups g ON g.id = r.group_id ' +
          'WHERE g.owner_uid = ? AND g.region_id = ? ORDER BY r.seq',
        [ownerUid, regionId],
      )
    ).map(toRule);
  }
  async listForeignReferences(ownerUid: string, regionId: string): Promise<GroupRef[]> {
    return (
      await this.db.all(
        'SELECT DISTINCT r.peer_group_id, r.peer_group_owner FROM rules r ' +
          'JOIN security_groups g ON g.id = r.group_id ' +
          'WHERE g.owner_uid = ? AND g.region_id = ? AND r.peer_group_id IS NOT NULL ' +
          'AND r.peer_group_owner <> ? ORDER BY r.peer_group_id',
        [ownerUid, regionId, ownerUid],
      )
    ).map((r) => ({ groupId: str(r.peer_group_id), ownerUid: str(r.peer_group_owner) }));
  }
  async listInterfacesInGroup(groupId: string): Promise<NetworkInterface[]> {
    return (
      await this.db.all(
        'SELECT e.* FROM network_interfaces e JOIN interface_groups m ON m.interface_id = e.id ' +
          'WHERE m.group_id = ? ORDER BY e.seq',
        [groupId],
      )
    ).map(toInterface);
  }

  // --- idempotency
  async getIdempotency(
    ownerUid: string,
    token: string,
    nowMs: number,
  ): Promise<IdempotencyRecord | undefined> {
    return this.one(
      'SELECT action, fingerprint, response FROM client_tokens WHERE owner_uid = ? AND token = ? AND expires_at > ?',
      [ownerUid, token, nowMs],
      (r) => ({
        action: str(r.action),
        fingerprint: str(r.fingerprint),
        response: str(r.response),
      }),
    );
  }
  async putIdempotency(
    ownerUid: string,
    token: string,
    rec: IdempotencyRecord,
    expiresAtMs: number,
  ): Promise<void> {
    await this.db.run('DELETE FROM client_tokens WHERE owner_uid = ? AND token = ?', [
      ownerUid,
      token,
    ]);
    await this.db.run(
      'INSERT INTO client_tokens (owner_uid, token, action, fingerprint, response, expires_at) VALUES (?,?,?,?,?,?)',
      [ownerUid, token, rec.action, rec.fingerprint, rec.response, expiresAtMs],
    );
  }
}

/** A logged change as the change log stores it (short keys: one row holds many). */
interface CompactLogged {
  k: LoggedChange['kind'];
  id: string;
  o: string;
  r: string;
  g?: readonly string[];
}

function compactLogged(c: LoggedChange): CompactLogged {
  return c.groupIds === undefined
    ? { k: c.kind, id: c.id, o: c.ownerUid, r: c.regionId }
    : { k: c.kind, id: c.id, o: c.ownerUid, r: c.regionId, g: c.groupIds };
}

function expandLogged(c: CompactLogged): LoggedChange {
  return c.g === undefined
    ? { kind: c.k, id: c.id, ownerUid: c.o, regionId: c.r }
    : { kind: c.k, id: c.id, ownerUid: c.o, regionId: c.r, groupIds: c.g };
}

export async function loadSnapshot(db: Executor) {
  const groups = (await db.all('SELECT * FROM security_groups ORDER BY seq')).map(toGroup);
  const rules = (await db.all('SELECT * FROM rules ORDER BY seq')).map(toRule);
  const interfaces = (await db.all('SELECT * FROM network_interfaces ORDER BY seq')).map(
    toInterface,
  );
  return { groups, rules, interfaces };
}
