/** Accounts and their access keys: the default one, or a validated accounts file. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config-error.js';
import type { Account } from './types.js';

export const DEFAULT_ACCOUNT: Account = {
  uid: '1000000000000001',
  name: 'default',
  accessKeys: [{ id: 'test', secret: 'test' }],
};

export class AccountsFileError extends ConfigError {}

function fail(file: string, what: string): never {
  throw new AccountsFileError(`accounts file ${file}: ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses `{"accounts":[{"uid","name","accessKeys":[{"id","secret"}]}]}`, naming any problem. */
export function parseAccounts(text: string, file = '<accounts>'): Account[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(file, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(doc) || !Array.isArray(doc.accounts)) {
    fail(file, 'expected an object with an "accounts" array');
  }
  if (doc.accounts.length === 0) fail(file, '"accounts" is empty');
  const uids = new Set<string>();
  const names = new Set<string>();
  const keyIds = new Set<string>();
  return doc.accounts.map((a: unknown, i: number): Account => {
    const at = `accounts[${i}]`;
    if (!isObject(a)) fail(file, `${at} is not an object`);
    if (typeof a.uid !== 'string' || !/^[1-9]\d{0,18}$/.test(a.uid)) {
      fail(file, `${at}.uid must be a string of digits (e.g. "1000000000000002")`);
    }
    if (typeof a.name !== 'string' || a.name.trim() === '') {
      fail(file, `${at}.name must be a non-empty string`);
    }
    if (uids.has(a.uid)) fail(file, `${at}.uid ${a.uid} is used twice`);
    if (names.has(a.name)) fail(file, `${at}.name ${a.name} is used twice`);
    uids.add(a.uid);
    names.add(a.name);
    if (!Array.isArray(a.accessKeys) || a.accessKeys.length === 0) {
      fail(file, `${at}.accessKeys must be a non-empty array`);
    }
    const accessKeys = a.accessKeys.map((k: unknown, j: number) => {
      const kat = `${at}.accessKeys[${j}]`;
      if (!isObject(k)) fail(file, `${kat} is not an object`);
      if (typeof k.id !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(k.id)) {
        fail(file, `${kat}.id must be 1-128 printable ASCII characters`);
      }
      if (typeof k.secret !== 'string' || k.secret === '') {
        fail(file, `${kat}.secret must be a non-empty string`);
      }
      if (keyIds.has(k.id)) fail(file, `${kat}.id ${k.id} is used twice`);
      keyIds.add(k.id);
      return { id: k.id, secret: k.secret };
    });
    return { uid: a.uid, name: a.name, accessKeys };
  });
}

export function loadAccounts(file: string): Account[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseAccounts(text, file);
}

/** Look-ups by access key id, uid and name. */
export class AccountDirectory {
  private readonly keys = new Map<string, { secret: string; principal: Account }>();
  private readonly uids = new Map<string, Account>();
  private readonly names = new Map<string, Account>();

  constructor(readonly accounts: readonly Account[]) {
    for (const a of accounts) {
      this.uids.set(a.uid, a);
      this.names.set(a.name, a);
      for (const k of a.accessKeys) this.keys.set(k.id, { secret: k.secret, principal: a });
    }
  }

  credential(accessKeyId: string) {
    return this.keys.get(accessKeyId);
  }
  byUid(uid: string): Account | undefined {
    return this.uids.get(uid);
  }
  byName(name: string): Account | undefined {
    return this.names.get(name);
  }
}
