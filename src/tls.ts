/**
 * The TLS certificate the service presents: the user's own (`--tls-cert`/`--tls-key`), or a
 * local CA and a server certificate made at first start in `<data-dir>/tls/` with node-forge
 * (keys from Node's crypto): `ca.pem` is what clients trust. The CA is kept across restarts;
 * the server certificate is made again (signed by the same CA) when it does not cover the
 * names asked for, was not issued by that CA, or expires within 30 days.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import ipaddr from 'ipaddr.js';
import forge from 'node-forge';
import { ConfigError } from './config-error.js';

export interface TlsOptions {
  dataDir: string;
  /** Names the server certificate must cover besides localhost, 127.0.0.1 and ::1. */
  hostnames: readonly string[];
  /** The user's own certificate (PEM, chain allowed) and key; both or neither. */
  certFile?: string;
  keyFile?: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  /** The CA clients trust: set when the certificate was made here. */
  caFile?: string;
  /** What was made at this start: 'ca+server', 'server', or nothing. */
  made: 'ca+server' | 'server' | null;
  /** Time spent loading or making the certificates. */
  ms: number;
}

/** A TLS setting that cannot be used: start-up stops with this message (exit code 2). */
export class TlsConfigError extends ConfigError {}

const DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1'];
const DAY_MS = 24 * 60 * 60 * 1000;

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new TlsConfigError(
      `${what} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

function writeSecret(file: string, pem: string): void {
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600); // also when the file was there already
}

function rsaKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

interface Issuer {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

function makeCa(): { certPem: string; keyPem: string } {
  const k = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * DAY_MS);
  const name = [
    { name: 'commonName', value: `ecs-secgroup local CA ${serial().slice(0, 8)}` },
    { name: 'organizationName', value: 'ecs-secgroup' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const key = forge.pki.privateKeyFromPem(k.privatePem);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.privatePem };
}

function makeServer(issuer: Issuer, names: readonly string[]) {
  const k = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 397 * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }]);
  cert.setIssuer(issuer.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
    { name: 'subjectKeyIdentifier' },
    {
      name: 'authorityKeyIdentifier',
      keyIdentifier: issuer.cert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  cert.sign(issuer.key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.privatePem };
}

/** Whether a server certificate made here can be kept: same CA, every name, 30 days left. */
function reusable(certPem: string, ca: Issuer, names: readonly string[]): boolean {
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromPem(certPem);
  } catch {
    return false;
  }
  if (cert.validity.notAfter.getTime() < Date.now() + 30 * DAY_MS) return false;
  try {
    if (!ca.cert.verify(cert)) return false;
  } catch {
    return false;
  }
  const san = cert.getExtension('subjectAltName') as
    | { altNames?: { type: number; value?: string; ip?: string }[] }
    | undefined;
  const have = new Set(
    (san?.altNames ?? []).map((a) => (a.type === 7 ? sameIp(a.ip ?? '') : (a.value ?? ''))),
  );
  return names.every((n) => have.has(isIP(n) ? sameIp(n) : n));
}

/** One spelling per address (node-forge writes IPv6 SANs uncompressed). */
function sameIp(ip: string): string {
  return ipaddr.isValid(ip) ? ipaddr.parse(ip).toString() : ip;
}

/** Loads the user's certificate, or the local CA's (making what is missing). */
export function loadOrCreateTls(opts: TlsOptions): TlsMaterial {
  const started = performance.now();
  if ((opts.certFile === undefined) !== (opts.keyFile === undefined)) {
    throw new TlsConfigError('--tls-cert and --tls-key go together');
  }
  if (opts.certFile !== undefined && opts.keyFile !== undefined) {
    const cert = readPem(opts.certFile, '--tls-cert');
    const key = readPem(opts.keyFile, '--tls-key');
    try {
      createSecureContext({ cert, key });
    } catch (e) {
      throw new TlsConfigError(
        `--tls-cert ${opts.certFile} / --tls-key ${opts.keyFile}: ${(e as Error).message}`,
      );
    }
    return { cert, key, made: null, ms: performance.now() - started };
  }

  const dir = join(opts.dataDir, 'tls');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new TlsConfigError(
      `cannot create ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const names = [...new Set([...DEFAULT_NAMES, ...opts.hostnames])];
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  const certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server-key.pem');
  let made: TlsMaterial['made'] = null;
  if (!existsSync(caFile) || !existsSync(caKeyFile)) {
    const ca = makeCa();
    writeSecret(caKeyFile, ca.keyPem);
    writeFileSync(caFile, ca.certPem);
    made = 'ca+server';
  }
  let issuer: Issuer;
  try {
    issuer = {
      cert: forge.pki.certificateFromPem(readPem(caFile, 'CA certificate')),
      key: forge.pki.privateKeyFromPem(readPem(caKeyFile, 'CA key')) as forge.pki.rsa.PrivateKey,
    };
  } catch (e) {
    if (e instanceof TlsConfigError) throw e;
    throw new TlsConfigError(
      `${caFile} / ${caKeyFile} are not a usable CA: ${(e as Error).message}`,
    );
  }
  const current =
    existsSync(certFile) && existsSync(keyFile) ? readPem(certFile, 'certificate') : '';
  if (made !== null || !reusable(current, issuer, names)) {
    const server = makeServer(issuer, names);
    writeSecret(keyFile, server.keyPem);
    writeFileSync(certFile, server.certPem);
    made ??= 'server';
  }
  chmodSync(caKeyFile, 0o600);
  chmodSync(keyFile, 0o600);
  return {
    cert: readPem(certFile, 'certificate'),
    key: readPem(keyFile, 'key'),
    caFile,
    made,
    ms: performance.now() - started,
  };
}
