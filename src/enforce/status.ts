/** The agent's status as a JSON file, replaced whole (readers never see half of one). */
import { renameSync, writeFileSync } from 'node:fs';
import type { AgentStatus } from './agent.js';

export function writeStatus(file: string, s: AgentStatus): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 1)}\n`);
  renameSync(tmp, file);
}
