/**
 * New TCP connections per second to HOST:PORT for MS milliseconds, CONCURRENCY at a time:
 * each connects and resets (no TIME_WAIT, so ports come back at once). Run inside a lab
 * interface's namespace by the enforce benchmark; prints {"connections":N,"ms":T}.
 */
import { connect } from 'node:net';

const [host, portText, msText, concText] = process.argv.slice(2);
const port = Number(portText);
const ms = Number(msText);
const concurrency = Number(concText ?? 16);
let done = 0;
let failed = 0;
let firstError = '';
const end = Date.now() + ms;
const t0 = Date.now();

function loop(): Promise<void> {
  return new Promise((resolve) => {
    const once = () => {
      if (Date.now() >= end) return resolve();
      const s = connect({ host, port });
      s.once('connect', () => {
        done++;
        s.resetAndDestroy();
        once();
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        failed++;
        firstError ||= e.code ?? e.message;
        s.destroy();
        once();
      });
    };
    once();
  });
}

await Promise.all(Array.from({ length: concurrency }, loop));
process.stdout.write(
  `${JSON.stringify({ connections: done, failed, firstError, ms: Date.now() - t0 })}\n`,
);
