/**
 * The "tls" section: DescribeSecurityGroupAttribute of a 100-rule group over HTTPS and over
 * plain HTTP on the same port of the same server, keep-alive, 32 connections, in one run
 * (plain, TLS, plain again: the TLS figure is compared with the mean of the two plain ones).
 */
import { readFileSync } from 'node:fs';
import { encodeParams, v1Params } from '../test/helpers/sign.js';
import { startServer } from '../test/helpers/spawn.js';
import { formatResult, type LoadResult, type RequestSpec, runLoad } from './load.js';

export interface TlsBenchOptions {
  durationMs?: number;
  warmupMs?: number;
  connections?: number;
}

function signed(params: Record<string, string>): RequestSpec {
  const all = v1Params(
    'GET',
    { Version: '2014-05-26', RegionId: 'cn-hangzhou', ...params },
    { format: 'JSON' },
  );
  return { method: 'GET', path: `/?${encodeParams(all)}` };
}

export async function benchTls(opts: TlsBenchOptions = {}) {
  const durationMs = opts.durationMs ?? 3000;
  const warmupMs = opts.warmupMs ?? 1000;
  const connections = opts.connections ?? 32;
  const srv = await startServer({
    args: ['--log-level', 'warn', '--throttle-rate', '0'],
  });
  try {
    const ca = readFileSync(srv.caFile, 'utf8');
    const call = async (params: Record<string, string>) => {
      const res = await fetch(`${srv.url}${signed(params).path}`);
      const body = await res.json();
      if (res.status !== 200) throw new Error(JSON.stringify(body));
      return body as Record<string, unknown>;
    };
    const group = String((await call({ Action: 'CreateSecurityGroup' })).SecurityGroupId);
    for (let k = 0; k < 100; k++) {
      await call({
        Action: 'AuthorizeSecurityGroup',
        SecurityGroupId: group,
        IpProtocol: 'tcp',
        PortRange: `${1000 + k}/${1000 + k}`,
        SourceCidrIp: `10.${k}.0.0/16`,
      });
    }
    const request = () =>
      signed({ Action: 'DescribeSecurityGroupAttribute', SecurityGroupId: group });
    const load = (url: string): Promise<LoadResult> =>
      runLoad({ url, ca, connections, durationMs, warmupMs, request });
    const plain1 = await load(srv.url);
    const tls = await load(srv.httpsUrl);
    const plain2 = await load(srv.url);
    const plainRps = (plain1.rps + plain2.rps) / 2;
    console.log(
      `DescribeSecurityGroupAttribute (100 rules), c=${connections}, keep-alive, same port`,
    );
    console.log(`  plain HTTP (before)  ${formatResult(plain1)}`);
    console.log(`  HTTPS                ${formatResult(tls)}`);
    console.log(`  plain HTTP (after)   ${formatResult(plain2)}`);
    console.log(`  HTTPS / plain HTTP   ${(tls.rps / plainRps).toFixed(2)} (target >= 0.6)`);
    return { plain: plainRps, tls: tls.rps, ratio: tls.rps / plainRps };
  } finally {
    await srv.stop();
  }
}
