/** The agent's table in the kernel through the nft tool: read it, apply one transaction. */
import { type ExecError, run } from './exec.js';
import { type KernelState, parseTable } from './kernel.js';
import { FAMILY, TABLE_PREFIX } from './ruleset.js';

export class Nft {
  constructor(
    readonly table: string,
    /** The network namespace whose table it is (the current one when absent). */
    readonly netns?: string,
  ) {
    if (!table.startsWith(TABLE_PREFIX) || !/^[a-z][a-z0-9_]{0,30}$/.test(table)) {
      throw new Error(`a table of this product is named ${TABLE_PREFIX}…, not "${table}"`);
    }
  }

  /** The table as the kernel holds it, or null when there is none. */
  async read(): Promise<KernelState | null> {
    try {
      const r = await run(['nft', '-j', 'list', 'table', FAMILY, this.table], {
        netns: this.netns,
      });
      return parseTable(JSON.parse(r.stdout), this.table);
    } catch (e) {
      if (/No such file or directory/.test((e as ExecError).stderr ?? '')) return null;
      throw e;
    }
  }

  /** Runs `commands` as one transaction: all of them, or none. */
  async apply(commands: readonly string[]): Promise<void> {
    if (commands.length === 0) return;
    await run(['nft', '-f', '-'], { netns: this.netns, input: `${commands.join('\n')}\n` });
  }

  /** Removes the table (and with it everything the agent put in the kernel); none is fine. */
  async remove(): Promise<void> {
    try {
      await run(['nft', 'delete', 'table', FAMILY, this.table], { netns: this.netns });
    } catch (e) {
      if (!/No such file or directory/.test((e as ExecError).stderr ?? '')) throw e;
    }
  }
}
