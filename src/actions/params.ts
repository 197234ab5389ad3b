/** Typed access to an action's parameters, raising the catalogued errors. */

import { findRegion } from '../domain/regions.js';
import { apiError, type ErrorKey } from '../errors.js';

const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: it finds the control characters to refuse
  /[\u0000-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export class Params {
  constructor(
    private readonly map: ReadonlyMap<string, string>,
    /** Prefix of these params in the request, for error messages (`Permissions.2.`). */
    readonly prefix = '',
  ) {}

  has(name: string): boolean {
    return (this.map.get(name) ?? '') !== '';
  }

  /**
   * The value, or undefined when absent or empty. No parameter of the API may carry a
   * control character (U+0000-U+001F, U+007F), U+FFFE, U+FFFF or half a surrogate pair:
   * they are refused here, for every action, rather than stored and later rendered where
   * XML cannot carry them (and PostgreSQL text cannot hold U+0000).
   */
  opt(name: string): string | undefined {
    const v = this.map.get(name);
    if (v === undefined || v === '') return undefined;
    if (UNSAFE.test(v)) throw apiError('InvalidParameter', this.prefix + name);
    return v;
  }

  req(name: string): string {
    const v = this.opt(name);
    if (v === undefined) throw apiError('MissingParameter', this.prefix + name);
    return v;
  }

  /** RegionId: required, and one of the catalogue's regions. */
  region(): string {
    const id = this.req('RegionId');
    if (!findRegion(id)) throw apiError('InvalidRegionId.NotFound');
    return id;
  }

  /** RegionId when given (and then one of the catalogue's): actions that may do without it. */
  regionIfGiven(): string | undefined {
    return this.has('RegionId') ? this.region() : undefined;
  }

  /** An optional integer in [min, max]; anything else raises `err` (InvalidParameter by default). */
  int(name: string, min: number, max: number, err?: ErrorKey): number | undefined {
    const v = this.opt(name);
    if (v === undefined) return undefined;
    if (!/^-?\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) {
      throw err ? apiError(err) : apiError('InvalidParameter', this.prefix + name);
    }
    return Number(v);
  }

  bool(name: string): boolean | undefined {
    const v = this.opt(name);
    if (v === undefined) return undefined;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    throw apiError('InvalidParameter', this.prefix + name);
  }

  /** One of `values`, compared case-insensitively; returns the canonical spelling. */
  oneOf<T extends string>(name: string, values: readonly T[], err: ErrorKey): T | undefined {
    const v = this.opt(name);
    if (v === undefined) return undefined;
    const found = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!found) throw apiError(err, this.prefix + name);
    return found;
  }

  /**
   * Indexed groups `Name.N.*` (or `Name.N` values when `scalar`), ordered by N.
   * N must be a positive integer no larger than `max`; more raise `tooMany`
   * (InvalidParameter.TooMany by default).
   */
  indexed(name: string, max: number, tooMany?: ErrorKey): Map<number, Params> {
    const over = () =>
      tooMany ? apiError(tooMany) : apiError('InvalidParameter.TooMany', this.prefix + name, max);
    const groups = new Map<number, Map<string, string>>();
    const head = `${name}.`;
    for (const [k, v] of this.map) {
      if (!k.startsWith(head)) continue;
      const rest = k.slice(head.length);
      const dot = rest.indexOf('.');
      const n = dot < 0 ? rest : rest.slice(0, dot);
      if (!/^[1-9]\d{0,5}$/.test(n)) throw apiError('InvalidParameter', this.prefix + k);
      const i = Number(n);
      if (i > max) throw over();
      if (!groups.has(i)) groups.set(i, new Map());
      groups.get(i)!.set(dot < 0 ? '' : rest.slice(dot + 1), v);
    }
    if (groups.size > max) throw over();
    return new Map(
      [...groups.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([i, m]) => [i, new Params(m, `${this.prefix}${name}.${i}.`)]),
    );
  }

  /** Values of `Name.N` (non-empty), ordered by N. */
  list(name: string, max: number, tooMany?: ErrorKey): string[] {
    return [...this.indexed(name, max, tooMany).values()]
      .map((p) => p.opt(''))
      .filter((v): v is string => v !== undefined);
  }

  /** Whether any of `names` is given (non-empty). */
  hasAny(names: readonly string[]): boolean {
    return names.some((n) => this.has(n));
  }
}
