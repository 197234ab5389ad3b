/**
 * The baseline: a bare `node:http` server answering every request with a fixed body.
 * Run as a child: `node dist/bench/bare-server.js <body file> <content-type>`; prints
 * `bare listening on <port>`. Request bodies are read (and dropped) before answering.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const [file, contentType = 'application/json;charset=utf-8'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: bare-server <body file> [content-type]\n');
  process.exit(2);
}
const body = readFileSync(file);

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`bare listening on ${(server.address() as AddressInfo).port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
