// Signs resize URLs for a site's backend. Plain node:crypto: importing this module does
// not load the wasm, so a web server can use it directly:
//
//   import { sign } from 'edge-resizer/lambda-common/sign.mjs';
//   sign('/photos/cat.jpg?w=600', process.env.IMAGE_KEY, { expiresAt: Date.now() / 1000 + 3600 });
//
// The rule (the core's `edge-core/src/signature.rs` verifies it; README "Signed URLs"):
// string to sign = the percent-encoded path + '?' + the query as sent without its `s`
// pair; s = base64url(HMAC-SHA256(key, string)) without padding.

import { createHmac } from 'node:crypto';

// Any absolute base works: only relative inputs are resolved against it, and the
// result is returned relative again.
const RELATIVE_BASE = 'https://signer.invalid';

/**
 * Sign `url` (absolute, or a path starting with `/`, with or without a query) with `key`
 * (string: its UTF-8 bytes are the key; or a Buffer). `expiresAt` (optional): a Date or
 * Unix seconds; adds `exp`. Returns the URL to hand out, in the same form as the input,
 * with `s` appended. The path and query are normalised the way a browser sends them
 * (WHATWG URL), since that is what CloudFront will see.
 */
export function sign(url, key, { expiresAt } = {}) {
  if (typeof url !== 'string' || url === '') throw new TypeError('sign: url must be a non-empty string');
  if (!(typeof key === 'string' || Buffer.isBuffer(key)) || key.length === 0) {
    throw new TypeError('sign: key must be a non-empty string or Buffer');
  }
  const relative = url.startsWith('/') && !url.startsWith('//');
  const parsed = new URL(url, RELATIVE_BASE);
  parsed.hash = '';
  const drop = new Set(['s']);
  const extra = [];
  if (expiresAt !== undefined) {
    drop.add('exp');
    extra.push(`exp=${unixSeconds(expiresAt)}`);
  }
  const kept = parsed.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !drop.has(pairName(pair)));
  const pairs = [...kept, ...extra];
  const message = `${parsed.pathname}?${pairs.join('&')}`;
  const s = createHmac('sha256', key).update(message, 'utf8').digest('base64url');
  const query = [...pairs, `s=${s}`].join('&');
  const signedPath = `${parsed.pathname}?${query}`;
  return relative ? signedPath : `${parsed.origin}${signedPath}`;
}

/** A pair's name as the query decoder reads it (`+` is a space, `%XX` decoded). */
function pairName(pair) {
  const [name] = new URLSearchParams(pair).keys();
  return name ?? '';
}

function unixSeconds(expiresAt) {
  const seconds = expiresAt instanceof Date ? expiresAt.getTime() / 1000 : Number(expiresAt);
  if (!Number.isFinite(seconds)) throw new TypeError('sign: expiresAt must be a Date or Unix seconds');
  return Math.floor(seconds);
}
