// The emulated CloudFront edge cache: in memory, keyed by the (rewritten) URI,
// lifetimes from `Cache-Control` the way CloudFront applies them with a cache policy
// of minimum TTL 0, default TTL 1 day, maximum TTL 1 year.

/** Statuses CloudFront caches (AWS docs: "HTTP status codes that CloudFront caches"). */
const CACHEABLE_OK = new Set([200, 203, 300, 301, 302, 303, 410]);
/** Cached only when the origin sends an explicit lifetime. */
const CACHEABLE_IF_EXPLICIT = new Set([307, 308]);
/** Errors CloudFront caches, for the error-caching minimum TTL unless told otherwise. */
const CACHEABLE_ERRORS = new Set([400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504]);

export const DEFAULT_TTL = 86400;
export const MAX_TTL = 31536000;
export const ERROR_TTL = 10;

/** Parses a Cache-Control value into { directive: value|true } (names lowercased). */
export function parseCacheControl(value) {
  const out = {};
  if (!value) return out;
  for (const part of value.split(',')) {
    const m = part.trim().match(/^([A-Za-z-]+)\s*(?:=\s*"?([^"]*)"?)?$/);
    if (m) out[m[1].toLowerCase()] = m[2] === undefined ? true : m[2];
  }
  return out;
}

/**
 * Seconds the edge may keep a response, 0 = do not store.
 * `cacheControl` is the joined Cache-Control header value or undefined.
 */
export function ttlFor(status, cacheControl) {
  const cc = parseCacheControl(cacheControl);
  if (cc['no-store'] || cc['no-cache'] || cc.private) return 0;
  const explicit = cc['s-maxage'] ?? cc['max-age'];
  const seconds = explicit === undefined ? undefined : Number.parseInt(explicit, 10);
  const hasExplicit = Number.isFinite(seconds) && seconds >= 0;
  if (CACHEABLE_OK.has(status)) return Math.min(hasExplicit ? seconds : DEFAULT_TTL, MAX_TTL);
  if (CACHEABLE_IF_EXPLICIT.has(status)) return hasExplicit ? Math.min(seconds, MAX_TTL) : 0;
  if (CACHEABLE_ERRORS.has(status)) return Math.min(hasExplicit ? seconds : ERROR_TTL, MAX_TTL);
  return 0;
}

/** Least-recently-used store bounded in bytes, entries expire after their TTL. */
export class EdgeCache {
  constructor({ maxBytes = 256 * 1024 * 1024, now = () => Date.now() } = {}) {
    this.maxBytes = maxBytes;
    this.now = now;
    this.bytes = 0;
    this.entries = new Map();
  }

  /** The fresh entry for `key` (refreshing its LRU position), or undefined. */
  get(key) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.expires) {
      this.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Stores `{status, statusDescription, headers, body}` for `ttl` seconds. */
  set(key, response, ttl) {
    if (!(ttl > 0) || response.body.length > this.maxBytes) return false;
    this.delete(key);
    const entry = { ...response, stored: this.now(), expires: this.now() + ttl * 1000 };
    this.entries.set(key, entry);
    this.bytes += response.body.length;
    for (const [oldKey] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(oldKey);
    }
    return true;
  }

  delete(key) {
    const entry = this.entries.get(key);
    if (entry) {
      this.bytes -= entry.body.length;
      this.entries.delete(key);
    }
  }

  /** Drops every entry whose key starts with `prefix` (an invalidation); returns the count. */
  invalidate(prefix = '') {
    let n = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix)) {
        this.delete(key);
        n += 1;
      }
    }
    return n;
  }

  /** A summary for the demo page. */
  list() {
    const now = this.now();
    return [...this.entries].map(([key, e]) => ({
      key,
      status: e.status,
      bytes: e.body.length,
      age: Math.floor((now - e.stored) / 1000),
      ttl: Math.max(0, Math.floor((e.expires - now) / 1000)),
    }));
  }
}
