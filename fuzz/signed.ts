/**
 * The signed generator: a valid request of a random action (fuzz/corpus.ts), its parameters
 * mutated (fuzz/mutate.ts), then signed correctly in one of the seven shapes (fuzz/sign.ts)
 * and sent over a keep-alive connection. A few requests get a signature-level mutation
 * instead (a changed value after signing, an unknown key, an old or malformed timestamp, a
 * nonce used twice or too long, another SignatureMethod), which authentication must refuse.
 */
import { harvest, validRequest, type World } from './corpus.js';
import { mutateParams, mutateState, type Pairs, setParam, stateGzipValues } from './mutate.js';
import type { Rng } from './rng.js';
import { type Built, buildSigned, type Shape, type Signer, type SignOptions } from './sign.js';

export interface SignedInput {
  built: Built;
  shape: Shape;
  action: string;
  /** The parameters sent (after mutation). */
  pairs: Pairs;
  /** Mutations applied, for the record. */
  ops: string[];
  /** A signature-level mutation: the request must be refused by authentication. */
  signatureOp?: string;
}

const SHAPE_WEIGHTS: readonly (readonly [number, Shape])[] = [
  [30, 'v1-get'],
  [10, 'v1-post'],
  [20, 'v1-form'],
  [5, 'v1-body'],
  [25, 'v3'],
  [5, 'v3-get'],
  [5, 'v3-form'],
];

let lastNonce = '';

function signatureMutation(rng: Rng, opts: SignOptions): string {
  const op = rng.pick([
    'tamper',
    'unknown-key',
    'expired',
    'timestamp-format',
    'nonce-reused',
    'nonce-long',
    'method',
    'no-signature',
  ] as const);
  switch (op) {
    case 'tamper':
      opts.afterSigning = ({ query, body }) => {
        const list = body.length > 0 ? body : query;
        const i = list.findIndex(([k]) => k !== 'Signature');
        if (i >= 0) list[i]![1] += 'x';
      };
      break;
    case 'unknown-key':
      opts.common = [['AccessKeyId', rng.pick(['nobody', '__proto__', 'constructor', ''])]];
      break;
    case 'expired':
      opts.common = [['Timestamp', rng.pick(['2020-01-01T00:00:00Z', '2099-01-01T00:00:00Z'])]];
      break;
    case 'timestamp-format':
      opts.common = [
        ['Timestamp', rng.pick(['2026-01-01', 'yesterday', '2026-01-01T00:00:00+08:00', ''])],
      ];
      break;
    case 'nonce-reused':
      opts.common = [['SignatureNonce', lastNonce]];
      break;
    case 'nonce-long':
      opts.common = [['SignatureNonce', 'n'.repeat(rng.pick([129, 10_000]))]];
      break;
    case 'method':
      opts.common = [['SignatureMethod', rng.pick(['HMAC-SHA256', 'hmac-sha1', '', 'RSA'])]];
      break;
    case 'no-signature':
      opts.afterSigning = ({ query }) => {
        const i = query.findIndex(([k]) => k === 'Signature');
        if (i >= 0) query.splice(i, 1);
      };
      break;
  }
  return op;
}

/** The next signed input. */
export function signedInput(rng: Rng, w: World, signer: Signer): SignedInput {
  const pairs: Pairs = validRequest(rng, w);
  const action = pairs[0]![1];
  const ops: string[] = [];
  if (action === 'ImportState' && rng.chance(0.85)) {
    if (rng.chance(0.85)) {
      setParam(pairs, 'State', mutateState(rng, w.state));
      ops.push('state');
    } else {
      const i = pairs.findIndex(([k]) => k === 'State');
      if (i >= 0) pairs.splice(i, 1);
      pairs.push(['StateGzip', rng.pick(stateGzipValues())]);
      ops.push('state-gzip');
    }
  }
  if (rng.chance(0.92)) ops.push(...mutateParams(rng, pairs, w.ids));
  const shape = rng.weighted(SHAPE_WEIGHTS);
  const opts: SignOptions = {};
  if (!shape.startsWith('v1') || rng.chance(0.3)) opts.format = null;
  else opts.format = rng.pick(['JSON', 'XML', 'json']);
  if (!shape.startsWith('v1')) opts.format = null;
  let signatureOp: string | undefined;
  if (shape.startsWith('v1') && rng.chance(0.03)) signatureOp = signatureMutation(rng, opts);
  const wrapped: Signer = {
    ...signer,
    nonce: () => {
      lastNonce = signer.nonce();
      return lastNonce;
    },
  };
  return {
    built: buildSigned(shape, pairs, wrapped, opts),
    shape,
    action,
    pairs,
    ops,
    signatureOp,
  };
}

export { harvest };
