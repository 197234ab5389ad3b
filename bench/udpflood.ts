/**
 * UDP datagrams to HOST from four sockets, to the destination ports of [FROM, TO] in turn —
 * each a new flow for conntrack and the rules while the tuples last — as fast as they go, for MS milliseconds. Run
 * inside a lab interface's namespace by the enforce benchmark; prints {"sent":N,"ms":T}.
 */
import { createSocket } from 'node:dgram';

const [host, fromText, toText, msText] = process.argv.slice(2);
const from = Number(fromText);
const to = Number(toText);
const end = Date.now() + Number(msText);
// four sockets (four source ports): up to 4 × (TO - FROM + 1) distinct flows
const socks = Array.from({ length: 4 }, () => createSocket('udp4'));
const payload = Buffer.alloc(16);
let port = from;
let sent = 0;
const t0 = Date.now();

await new Promise<void>((resolve) => {
  const burst = () => {
    if (Date.now() >= end) return resolve();
    let pending = 64;
    for (let i = 0; i < 64; i++) {
      socks[i & 3]!.send(payload, port, host, () => {
        sent++;
        if (--pending === 0) setImmediate(burst);
      });
      if ((i & 3) === 3) port = port >= to ? from : port + 1;
    }
  };
  burst();
});
for (const s of socks) s.close();
process.stdout.write(`${JSON.stringify({ sent, ms: Date.now() - t0 })}\n`);
