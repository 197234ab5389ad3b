/**
 * Test-side entry to the server helpers: re-exports `./spawn.js` and registers a root
 * `after` hook so no child survives the test file (and temp dirs are removed).
 *
 *   const srv = await startServer();            // fresh data dir, default key test/test
 *   const again = await startServer({ dataDir: srv.dataDir });   // restart on the same data
 *   await srv.stop();                           // SIGTERM → exit code
 */
import { after } from 'node:test';
import { stopAll } from './spawn.js';

export * from './spawn.js';

after(stopAll);
