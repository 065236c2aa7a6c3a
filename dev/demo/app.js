// Demo page: renders every original in the bucket through the resizer and reports
// what each request returned (Resource Timing; the edge adds CloudFront's
// `cdn-cache-hit` / `cdn-cache-miss` Server-Timing metrics, readable same-origin).
// `window.demo` exposes the results for the browser test.

const STRIP_WIDTHS = [160, 480];
const SRCSET_WIDTHS = [320, 640, 960];
const PICTURE_WIDTH = 320;

// Image `Accept` headers as browsers send them (fetch() itself would send "*/*").
const BROWSER_ACCEPT = {
  Chrome: 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
  Firefox: 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  Safari: 'image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5',
  'Safari 13': 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5',
  'IE 11': 'image/png, image/svg+xml, image/*;q=0.8, */*;q=0.5',
  curl: '*/*',
};
const OWN_ACCEPT = /Firefox\//.test(navigator.userAgent) ? BROWSER_ACCEPT.Firefox
  : /Version\/[\d.]+ Safari\//.test(navigator.userAgent) ? BROWSER_ACCEPT.Safari
    : BROWSER_ACCEPT.Chrome;

const demo = { finished: false, error: null, samples: [], results: [], accept: [] };
window.demo = demo;

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node && typeof v !== 'string') node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

const keyPath = (key) => '/' + key.split('/').map(encodeURIComponent).join('/');
const resizedUrl = (key, params) => `${keyPath(key)}?${new URLSearchParams(params)}`;

function setStatus(text) {
  $('#status').textContent = text;
}

/** Waits for the Resource Timing entry of `url` (it can trail the load event). */
function timingEntry(url, timeoutMs = 2000) {
  const find = () => performance.getEntriesByName(url).at(-1);
  const now = find();
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    const observer = new PerformanceObserver(() => {
      const entry = find();
      if (entry) {
        observer.disconnect();
        resolve(entry);
      }
    });
    observer.observe({ type: 'resource', buffered: true });
    setTimeout(() => {
      observer.disconnect();
      resolve(find());
    }, timeoutMs);
  });
}

function cacheFromServerTiming(entry) {
  const names = (entry?.serverTiming || []).map((t) => t.name);
  if (names.includes('cdn-cache-hit')) return 'Hit from cloudfront';
  if (names.includes('cdn-cache-miss')) return 'Miss from cloudfront';
  return null;
}

/** Loads an original off-screen to learn its upright size (the browser applies EXIF). */
function measureOriginal(key) {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => resolve(null);
    img.src = keyPath(key);
  });
}

/** Size a width-only resize should have: never enlarged, aspect ratio kept. */
function expectedSize(original, requestedWidth) {
  if (!original) return null;
  const width = Math.min(requestedWidth, original.width);
  return { width, height: Math.max(1, Math.round((original.height * width) / original.width)) };
}

function renderSample(sample) {
  const { key } = sample;
  const srcset = SRCSET_WIDTHS.map((w) => `${resizedUrl(key, { w, fm: 'auto' })} ${w}w`).join(', ');
  const picture = el('picture', {},
    el('source', { type: 'image/avif', srcset: resizedUrl(key, { w: PICTURE_WIDTH, fm: 'avif' }) }),
    el('source', { type: 'image/webp', srcset: resizedUrl(key, { w: PICTURE_WIDTH, fm: 'webp' }) }),
    el('img', {
      src: resizedUrl(key, { w: PICTURE_WIDTH, fm: 'jpg' }), alt: `${key} via <picture>`,
      dataset: { role: 'picture', key, width: PICTURE_WIDTH },
    }));
  const figure = (caption, ...content) => el('figure', {}, ...content, el('figcaption', {}, caption));
  return el('article', { class: 'sample' },
    el('h2', {}, el('a', { href: keyPath(key) }, key), ' ',
      el('small', { class: 'original-info' }, `original ${sample.size.toLocaleString()} bytes`)),
    el('div', { class: 'figures' },
      figure(`<img srcset> ${SRCSET_WIDTHS.join('/')}w, fm=auto`,
        el('img', {
          srcset, sizes: '(max-width: 720px) 90vw, 640px', src: resizedUrl(key, { w: 640, fm: 'auto' }),
          alt: `${key} responsive`, class: 'responsive', dataset: { role: 'srcset', key },
        })),
      figure(`<picture> AVIF › WebP › JPEG, w=${PICTURE_WIDTH}`, picture),
      // No fm: the format is negotiated from Accept by default (policy.autoFormatByDefault).
      ...STRIP_WIDTHS.map((w) => figure(`w=${w}`,
        el('img', { src: resizedUrl(key, { w }), alt: `${key} at ${w}px`, dataset: { role: 'fixed', key, width: w } })))));
}

function requestedWidth(img) {
  const w = new URL(img.currentSrc || img.src).searchParams.get('w');
  return w ? Number(w) : null;
}

/** Records one finished <img> load in `demo.results` and the table. */
async function record(img, original, ok) {
  const url = img.currentSrc || img.src;
  const entry = await timingEntry(url);
  const result = {
    key: img.dataset.key,
    role: img.dataset.role,
    url: new URL(url).pathname + new URL(url).search,
    ok,
    status: entry?.responseStatus || null,
    contentType: entry?.contentType || null,
    bytes: entry ? entry.encodedBodySize : null,
    ms: entry ? Math.round(entry.duration) : null,
    xCache: cacheFromServerTiming(entry),
    fromBrowserCache: entry ? entry.transferSize === 0 && entry.encodedBodySize > 0 : false,
    naturalWidth: img.naturalWidth,
    naturalHeight: img.naturalHeight,
    requestedWidth: requestedWidth(img),
    expected: null,
    error: null,
  };
  if (!entry?.contentType || !ok) {
    // No timing details (or a failed image): ask again, as the browser would.
    try {
      const res = await fetch(url, { headers: { accept: OWN_ACCEPT }, cache: 'no-store' });
      result.status ??= res.status;
      if (!ok) result.status = res.status;
      result.contentType ||= res.headers.get('content-type');
      result.xCache ??= res.headers.get('x-cache');
      const body = await res.arrayBuffer();
      result.bytes ??= body.byteLength;
      if (!res.ok) result.error = new TextDecoder().decode(body).slice(0, 300);
    } catch (err) {
      result.error = String(err);
    }
  }
  const expected = ok && result.requestedWidth ? expectedSize(original, result.requestedWidth) : null;
  if (expected) {
    result.expected = expected;
    result.sizeOk = expected.width === result.naturalWidth && Math.abs(expected.height - result.naturalHeight) <= 1;
  }
  demo.results.push(result);
  addRow(result);
  return result;
}

function addRow(r) {
  const format = r.contentType ? r.contentType.replace(/^image\//, '') : '–';
  const cacheCell = r.fromBrowserCache ? `${r.xCache || ''} (browser cache)` : r.xCache || '–';
  const row = el('tr', { class: r.ok ? 'ok' : 'failed', dataset: { url: r.url } },
    el('td', {}, `${r.key} (${r.role})`),
    el('td', {}, el('a', { href: r.url }, r.url)),
    el('td', { class: 'status' }, String(r.status ?? '–')),
    el('td', { class: 'format' }, format),
    el('td', {}, r.ok ? `${r.naturalWidth}×${r.naturalHeight}` : (r.error ? r.error.slice(0, 120) : 'not decoded')),
    el('td', { class: r.sizeOk === false ? 'bad' : '' },
      r.expected ? `${r.expected.width}×${r.expected.height} ${r.sizeOk ? '✓' : '✗'}` : '–'),
    el('td', { class: 'num' }, r.bytes === null ? '–' : r.bytes.toLocaleString()),
    el('td', { class: 'num' }, r.ms === null ? '–' : `${r.ms} ms`),
    el('td', { class: 'cache' }, cacheCell));
  $('#requests tbody').append(row);
}

function imageDone(img) {
  if (img.complete && img.currentSrc) return Promise.resolve(img.naturalWidth > 0);
  return new Promise((resolve) => {
    img.addEventListener('load', () => resolve(true), { once: true });
    img.addEventListener('error', () => resolve(false), { once: true });
  });
}

async function showCache() {
  const { entries } = await (await fetch('/__demo/api/cache', { cache: 'no-store' })).json();
  const body = $('#cache tbody');
  body.replaceChildren(...entries.map((e) => el('tr', {},
    el('td', {}, e.key), el('td', {}, String(e.status)), el('td', { class: 'num' }, e.bytes.toLocaleString()),
    el('td', { class: 'num' }, String(e.age)), el('td', { class: 'num' }, String(e.ttl)))));
}

async function compareAccept() {
  $('#accept-section').hidden = false;
  const body = $('#accept tbody');
  body.replaceChildren();
  demo.accept = [];
  for (const sample of demo.samples) {
    const url = resizedUrl(sample.key, { w: 320, fm: 'auto' });
    for (const [browser, accept] of Object.entries(BROWSER_ACCEPT)) {
      const res = await fetch(url, { headers: { accept }, cache: 'no-store' });
      const bytes = (await res.arrayBuffer()).byteLength;
      const r = { url, browser, status: res.status, contentType: res.headers.get('content-type'), bytes, xCache: res.headers.get('x-cache') };
      demo.accept.push(r);
      body.append(el('tr', {}, el('td', {}, url), el('td', {}, browser), el('td', {}, String(r.status)),
        el('td', {}, r.contentType || '–'), el('td', { class: 'num' }, bytes.toLocaleString()), el('td', {}, r.xCache || '–')));
    }
  }
  await showCache();
}

async function refetchAll() {
  setStatus('fetching every URL again without the browser cache…');
  for (const row of document.querySelectorAll('#requests tbody tr')) {
    const res = await fetch(row.dataset.url, { headers: { accept: OWN_ACCEPT }, cache: 'no-store' });
    await res.arrayBuffer();
    row.querySelector('.cache').textContent += ` → ${res.headers.get('x-cache')}`;
  }
  await showCache();
  setStatus('fetched again: see the last column');
}

async function main() {
  $('#reload').addEventListener('click', () => refetchAll().catch((e) => setStatus(String(e))));
  $('#compare').addEventListener('click', () => compareAccept().catch((e) => setStatus(String(e))));
  $('#invalidate').addEventListener('click', async () => {
    const { dropped } = await (await fetch('/__demo/api/invalidate', { method: 'POST' })).json();
    setStatus(`edge cache invalidated (${dropped} entries)`);
    await showCache();
  });

  const listing = await (await fetch('/__demo/api/objects', { cache: 'no-store' })).json();
  demo.samples = listing.objects.filter((o) => o.image);
  const others = listing.objects.length - demo.samples.length;
  setStatus(`${demo.samples.length} image(s) in bucket ${listing.bucket}` +
    (others ? ` (+${others} other object(s) not shown)` : '') + '; loading…');
  const container = $('#samples');
  const pending = [];
  for (const sample of demo.samples) {
    const article = renderSample(sample);
    container.append(article);
    const original = measureOriginal(sample.key);
    for (const img of article.querySelectorAll('img')) {
      pending.push(Promise.all([imageDone(img), original]).then(([ok, orig]) => record(img, orig, ok)));
    }
    original.then((o) => {
      article.querySelector('.original-info').textContent +=
        o ? `, ${o.width}×${o.height} px` : ', not decodable by this browser';
    });
  }
  await Promise.all(pending);
  await showCache();
  const failed = demo.results.filter((r) => !r.ok).length;
  setStatus(`${demo.results.length} requests, ${failed} failed` +
    `, ${demo.results.filter((r) => r.xCache?.startsWith('Hit')).length} edge cache hits`);
}

main()
  .catch((err) => {
    demo.error = String(err?.stack || err);
    setStatus(`error: ${err}`);
  })
  .finally(() => {
    demo.finished = true;
  });
