/**
 * Versioned schema migrations, shared by both SQL stores. `{{serial}}` becomes the
 * dialect's auto-increment primary key and `{{bigint}}` its 64-bit integer type. A statement
 * of one dialect only is given per dialect (null: nothing to run there).
 */
export type Statement = string | { sqlite: string | null; postgres: string | null };

export interface Migration {
  version: number;
  name: string;
  statements: Statement[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'security groups, rules, vpcs, client tokens',
    statements: [
      `CREATE TABLE security_groups (
        seq {{serial}},
        id TEXT NOT NULL UNIQUE,
        owner_uid TEXT NOT NULL,
        region_id TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        vpc_id TEXT,
        type TEXT NOT NULL,
        inner_access_policy TEXT NOT NULL,
        resource_group_id TEXT NOT NULL,
        tags TEXT NOT NULL,
        creation_time TEXT NOT NULL)`,
      'CREATE INDEX security_groups_owner ON security_groups (owner_uid, region_id)',
      'CREATE INDEX security_groups_vpc ON security_groups (vpc_id)',
      `CREATE TABLE rules (
        seq {{serial}},
        id TEXT NOT NULL UNIQUE,
        group_id TEXT NOT NULL,
        direction TEXT NOT NULL,
        protocol TEXT NOT NULL,
        port_from INTEGER NOT NULL,
        port_to INTEGER NOT NULL,
        sport_from INTEGER,
        sport_to INTEGER,
        nic_type TEXT NOT NULL,
        policy TEXT NOT NULL,
        priority INTEGER NOT NULL,
        peer_cidr TEXT,
        peer_ipv6_cidr TEXT,
        peer_group_id TEXT,
        peer_group_owner TEXT,
        local_cidr TEXT,
        local_ipv6_cidr TEXT,
        description TEXT NOT NULL,
        create_time TEXT NOT NULL,
        identity TEXT NOT NULL,
        UNIQUE (group_id, identity))`,
      'CREATE INDEX rules_peer_group ON rules (peer_group_id)',
      `CREATE TABLE vpcs (
        seq {{serial}},
        id TEXT NOT NULL UNIQUE,
        owner_uid TEXT NOT NULL,
        region_id TEXT NOT NULL,
        cidr_block TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        creation_time TEXT NOT NULL)`,
      `CREATE TABLE client_tokens (
        owner_uid TEXT NOT NULL,
        token TEXT NOT NULL,
        action TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        response TEXT NOT NULL,
        expires_at {{bigint}} NOT NULL,
        PRIMARY KEY (owner_uid, token))`,
    ],
  },
  {
    version: 2,
    name: 'vswitches and network interfaces',
    statements: [
      `CREATE TABLE vswitches (
        seq {{serial}},
        id TEXT NOT NULL UNIQUE,
        owner_uid TEXT NOT NULL,
        region_id TEXT NOT NULL,
        vpc_id TEXT NOT NULL,
        zone_id TEXT NOT NULL,
        cidr_block TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        creation_time TEXT NOT NULL)`,
      'CREATE INDEX vswitches_vpc ON vswitches (vpc_id)',
      `CREATE TABLE network_interfaces (
        seq {{serial}},
        id TEXT NOT NULL UNIQUE,
        owner_uid TEXT NOT NULL,
        region_id TEXT NOT NULL,
        vpc_id TEXT NOT NULL,
        vswitch_id TEXT NOT NULL,
        zone_id TEXT NOT NULL,
        primary_ip TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        group_ids TEXT NOT NULL,
        creation_time TEXT NOT NULL,
        UNIQUE (vswitch_id, primary_ip))`,
      `CREATE TABLE interface_groups (
        interface_id TEXT NOT NULL,
        group_id TEXT NOT NULL,
        PRIMARY KEY (interface_id, group_id))`,
      'CREATE INDEX interface_groups_group ON interface_groups (group_id)',
    ],
  },
  {
    version: 3,
    name: 'signature nonces (shared replay protection of several nodes)',
    statements: [
      'CREATE TABLE IF NOT EXISTS nonces (key TEXT PRIMARY KEY, expires_at {{bigint}} NOT NULL)',
      'CREATE INDEX IF NOT EXISTS nonces_expires_at ON nonces (expires_at)',
    ],
  },
  {
    version: 4,
    name: 'signature nonces as 64-bit fingerprints (bounded rows)',
    statements: [
      // SQLite keeps a single node's nonces in nonces.db; this table was never used there.
      { sqlite: 'DROP TABLE IF EXISTS nonces', postgres: null },
      {
        sqlite: null,
        postgres: 'CREATE TABLE nonce_hashes (hash BIGINT PRIMARY KEY, expires_at BIGINT NOT NULL)',
      },
      {
        sqlite: null,
        postgres: 'CREATE INDEX nonce_hashes_expires_at ON nonce_hashes (expires_at)',
      },
      // The first 8 bytes of SHA-256(key) as a signed 64-bit integer: the fingerprint the
      // service computes (src/nonces/window.ts), so nonces used before the upgrade stay used.
      {
        sqlite: null,
        postgres:
          'INSERT INTO nonce_hashes (hash, expires_at) ' +
          "SELECT ('x' || encode(substring(sha256(convert_to(key, 'UTF8')) from 1 for 8), 'hex'))::bit(64)::bigint, " +
          'max(expires_at) FROM nonces GROUP BY 1 ON CONFLICT DO NOTHING',
      },
      { sqlite: null, postgres: 'DROP TABLE nonces' },
    ],
  },
  {
    version: 5,
    name: 'rule CIDRs as written; tags and resource groups of VPCs, vSwitches, interfaces; secondary addresses',
    statements: [
      'ALTER TABLE rules ADD COLUMN peer_text TEXT',
      'ALTER TABLE rules ADD COLUMN local_text TEXT',
      "ALTER TABLE vpcs ADD COLUMN resource_group_id TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE vpcs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
      "ALTER TABLE vswitches ADD COLUMN resource_group_id TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE vswitches ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
      "ALTER TABLE network_interfaces ADD COLUMN secondary_ips TEXT NOT NULL DEFAULT '[]'",
      "ALTER TABLE network_interfaces ADD COLUMN resource_group_id TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE network_interfaces ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
      'ALTER TABLE network_interfaces ADD COLUMN queue_number INTEGER NOT NULL DEFAULT 1',
      'ALTER TABLE network_interfaces ADD COLUMN source_dest_check INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE network_interfaces ADD COLUMN delete_on_release INTEGER NOT NULL DEFAULT 1',
    ],
  },
  {
    version: 6,
    name: 'change log: every committed change set in commit order, for the change feed',
    statements: [
      // One row per committed transaction that changed groups, rules or interfaces: what it
      // touched (kind, id, owner, region; for an interface the groups it was in before and
      // after). Its position: on SQLite `seq` (one writer: commit order); on PostgreSQL its
      // transaction id `txid`, read only below the oldest transaction still running, so a
      // reader never passes one that commits late (see SqlTx.changeLogAfter).
      {
        sqlite: `CREATE TABLE change_log (
        seq {{serial}},
        committed_at {{bigint}} NOT NULL,
        entries TEXT NOT NULL)`,
        postgres: `CREATE TABLE change_log (
        seq {{serial}},
        txid {{bigint}} NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
        committed_at {{bigint}} NOT NULL,
        entries TEXT NOT NULL)`,
      },
      { sqlite: null, postgres: 'CREATE UNIQUE INDEX change_log_txid ON change_log (txid)' },
      // The log's identity (a cursor of another database is refused by it) and how far old
      // rows have been deleted (a cursor at or before it cannot resume).
      `CREATE TABLE change_log_state (
        epoch TEXT NOT NULL,
        trimmed_upto {{bigint}} NOT NULL)`,
      {
        sqlite:
          'INSERT INTO change_log_state (epoch, trimmed_upto) VALUES (lower(hex(randomblob(8))), 0)',
        postgres:
          'INSERT INTO change_log_state (epoch, trimmed_upto) ' +
          'VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 16), 0)',
      },
    ],
  },
  {
    version: 7,
    name: 'group versions: every change to a group or its rules counts up its version',
    statements: [
      // What DescribeSecurityGroupAttribute shows of a group changes only with the group
      // row or its rules: a node may reuse an answer while the versions it named stay.
      'ALTER TABLE security_groups ADD COLUMN version {{bigint}} NOT NULL DEFAULT 0',
      {
        sqlite:
          'CREATE TRIGGER group_version AFTER UPDATE ON security_groups ' +
          'WHEN NEW.version = OLD.version BEGIN ' +
          'UPDATE security_groups SET version = version + 1 WHERE id = NEW.id; END',
        postgres:
          'CREATE FUNCTION ecssg_group_version() RETURNS trigger AS $$ BEGIN ' +
          'IF NEW.version = OLD.version THEN NEW.version := OLD.version + 1; END IF; ' +
          'RETURN NEW; END $$ LANGUAGE plpgsql',
      },
      {
        sqlite: null,
        postgres:
          'CREATE TRIGGER group_version BEFORE UPDATE ON security_groups ' +
          'FOR EACH ROW EXECUTE FUNCTION ecssg_group_version()',
      },
      ...(['INSERT', 'UPDATE', 'DELETE'] as const).map((op) => ({
        sqlite:
          `CREATE TRIGGER rules_${op.toLowerCase()}_version AFTER ${op} ON rules BEGIN ` +
          `UPDATE security_groups SET version = version + 1 WHERE id = ${op === 'DELETE' ? 'OLD' : 'NEW'}.group_id; END`,
        postgres: null,
      })),
      {
        sqlite: null,
        postgres:
          'CREATE FUNCTION ecssg_rules_version() RETURNS trigger AS $$ BEGIN ' +
          "IF TG_OP <> 'INSERT' THEN UPDATE security_groups SET version = version + 1 WHERE id = OLD.group_id; END IF; " +
          "IF TG_OP <> 'DELETE' THEN UPDATE security_groups SET version = version + 1 WHERE id = NEW.group_id; END IF; " +
          'RETURN NULL; END $$ LANGUAGE plpgsql',
      },
      {
        sqlite: null,
        postgres:
          'CREATE TRIGGER rules_version AFTER INSERT OR UPDATE OR DELETE ON rules ' +
          'FOR EACH ROW EXECUTE FUNCTION ecssg_rules_version()',
      },
    ],
  },
];

/** The statement for `dialect`, or null when it has none there. */
export function renderMigration(stmt: Statement, dialect: 'sqlite' | 'postgres'): string | null {
  const sql = typeof stmt === 'string' ? stmt : stmt[dialect];
  if (sql === null) return null;
  return dialect === 'sqlite'
    ? sql
        .replaceAll('{{serial}}', 'INTEGER PRIMARY KEY AUTOINCREMENT')
        .replaceAll('{{bigint}}', 'INTEGER')
    : sql.replaceAll('{{serial}}', 'BIGSERIAL PRIMARY KEY').replaceAll('{{bigint}}', 'BIGINT');
}
