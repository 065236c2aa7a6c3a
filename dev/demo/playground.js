// Playground panel of the demo page: try every parameter on any original in the
// bucket, or on a file dropped onto the page. Shows the URL it builds, the derived key
// the viewer-request handler rewrites it to, and the result beside the original with
// format, pixels, bytes, saving, time and edge-cache status; a wrong value shows the
// error message exactly as the edge returned it. No URL rules here: the page only
// assembles `name=value` pairs; validation is the core's.
// `window.playground` exposes the last result for the browser test.

const ACCEPT = /Firefox\//.test(navigator.userAgent)
  ? 'image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5'
  : 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';

// The form: one control per parameter (value '' = not sent). Select options are
// suggestions of the documented values; free-text fields take anything, so a wrong
// value reaches the API and its message is shown.
const FIELDS = [
  { name: 'w', label: 'width (w)', type: 'number', placeholder: 'e.g. 600' },
  { name: 'h', label: 'height (h)', type: 'number', placeholder: 'e.g. 400' },
  { name: 'dpr', label: 'dpr', type: 'text', placeholder: '1 … 4' },
  { name: 'fit', label: 'fit', options: ['', 'cover', 'contain', 'fill', 'inside', 'outside'] },
  { name: 'pos', label: 'pos / gravity', type: 'text', placeholder: 'centre, north, se, …' },
  { name: 'q', label: 'quality (q)', type: 'number', placeholder: '1 … 100' },
  { name: 'fm', label: 'format (fm)', options: ['', 'auto', 'jpeg', 'png', 'webp', 'avif', 'gif'] },
  { name: 'bg', label: 'background (bg)', type: 'text', placeholder: 'rrggbb or rrggbbaa' },
  { name: 'enlarge', label: 'enlarge', options: ['', '1', '0'] },
  { name: 'anim', label: 'anim', options: ['', '1', '0'] },
  { name: 'extra', label: 'more (name=value&…)', type: 'text', placeholder: 'other parameters, e.g. rot=90' },
];

const state = { originals: [], last: null, runs: 0, busy: false };
window.playground = state;

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};
const keyPath = (key) => '/' + key.split('/').map(encodeURIComponent).join('/');
const kb = (n) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} KB`);

function buildPanel() {
  const controls = FIELDS.map((f) => {
    const input = f.options
      ? el('select', { id: `pg-${f.name}`, name: f.name }, ...f.options.map((o) => el('option', { value: o }, o || '(default)')))
      : el('input', { id: `pg-${f.name}`, name: f.name, type: f.type, placeholder: f.placeholder, autocomplete: 'off' });
    return el('label', {}, el('span', {}, f.label), input);
  });
  const panel = el('section', { id: 'playground' },
    el('h2', {}, 'Playground'),
    el('p', {}, 'Pick an original (or drop a file anywhere on this panel), set parameters and ',
      el('em', {}, 'Run'), '. Every request goes through the emulated CloudFront and both handlers.'),
    el('form', { id: 'pg-form' },
      el('label', {}, el('span', {}, 'original'), el('select', { id: 'pg-original', name: 'original' })),
      el('label', { class: 'pg-drop', id: 'pg-drop' }, el('span', {}, 'or a file'), el('input', { id: 'pg-file', type: 'file' })),
      ...controls,
      el('button', { id: 'pg-run', type: 'submit' }, 'Run')),
    el('dl', { id: 'pg-request' },
      el('dt', {}, 'URL'), el('dd', {}, el('code', { id: 'pg-url' }, '–')),
      el('dt', {}, 'derived key'), el('dd', {}, el('code', { id: 'pg-key' }, '–'))),
    el('p', { id: 'pg-error', role: 'alert', hidden: '' }),
    el('div', { class: 'pg-compare' },
      el('figure', {}, el('img', { id: 'pg-original-img', alt: 'original' }), el('figcaption', { id: 'pg-original-info' }, 'original')),
      el('figure', {}, el('img', { id: 'pg-result-img', alt: 'result' }), el('figcaption', { id: 'pg-result-info' }, 'result'))));
  const style = el('style', {}, `
    #playground form { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .5rem; align-items: end; }
    #playground label { display: flex; flex-direction: column; font-size: .85rem; }
    #playground .pg-drop.over { outline: 2px dashed #06c; }
    #playground .pg-compare { display: flex; gap: 1rem; flex-wrap: wrap; }
    #playground figure { margin: 0; max-width: 48%; }
    #playground figure img { max-width: 100%; max-height: 24rem; background: repeating-conic-gradient(#ddd 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
    #pg-error { color: #b00; font-weight: bold; }`);
  document.head.append(style);
  const main = document.querySelector('main') || document.body;
  main.prepend(panel);
  return panel;
}

async function loadOriginals(select, selected) {
  const res = await fetch('/__demo/api/objects', { cache: 'no-store' });
  const { objects } = await res.json();
  state.originals = objects.filter((o) => o.image).map((o) => o.key);
  select.replaceChildren(...state.originals.map((k) => el('option', { value: k }, k)));
  if (selected) select.value = selected;
}

async function uploadFile(file) {
  const res = await fetch(`/__demo/api/playground/upload?name=${encodeURIComponent(file.name)}`, { method: 'PUT', body: file });
  const body = await res.json();
  if (!res.ok) throw new Error(body.message || `upload failed (${res.status})`);
  await loadOriginals(document.getElementById('pg-original'), body.key);
  return body.key;
}

function queryOf(form) {
  const params = new URLSearchParams();
  for (const f of FIELDS) {
    if (f.name === 'extra') continue;
    const value = form.elements[f.name].value.trim();
    if (value !== '') params.append(f.name, value);
  }
  const extra = form.elements.extra.value.trim().replace(/^[?&]/, '');
  let query = params.toString();
  if (extra) query = query ? `${query}&${extra}` : extra;
  return query;
}

function imageSize(img, src) {
  return new Promise((resolve) => {
    img.onload = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => resolve(null);
    img.src = src;
  });
}

async function run(form) {
  state.busy = true;
  const key = form.elements.original.value;
  const query = queryOf(form);
  const uri = keyPath(key);
  const url = query ? `${uri}?${query}` : uri;
  const errorBox = document.getElementById('pg-error');
  errorBox.hidden = true;
  document.getElementById('pg-url').textContent = url;
  const result = { key, query, url, derivedKey: null, error: null };

  const derived = await (await fetch(`/__demo/api/playground/key?${new URLSearchParams({ uri, query, accept: ACCEPT })}`, { cache: 'no-store' })).json();
  result.derivedKey = derived.action === 'rewrite' ? derived.key : null;
  document.getElementById('pg-key').textContent = derived.action === 'rewrite' ? derived.key
    : derived.action === 'pass' ? '(no parameters: the original is served)' : '–';

  // Original: bytes and pixels.
  const originalBlob = await (await fetch(uri, { cache: 'no-store' })).blob();
  const originalSize = await imageSize(document.getElementById('pg-original-img'), URL.createObjectURL(originalBlob));
  result.original = { bytes: originalBlob.size, ...originalSize };
  document.getElementById('pg-original-info').textContent =
    `original · ${originalBlob.type || '?'} · ${originalSize ? `${originalSize.width}×${originalSize.height}` : 'not shown by the browser'} · ${kb(originalBlob.size)}`;

  const started = performance.now();
  const res = await fetch(url, { headers: { accept: ACCEPT }, cache: 'no-store' });
  const body = await res.blob();
  const ms = performance.now() - started;
  const edgeCache = res.headers.get('x-cache') || '–';
  if (!res.ok) {
    let message = await body.text();
    try {
      const parsed = JSON.parse(message);
      message = `${parsed.status ?? res.status} ${parsed.code ?? ''}: ${parsed.message ?? message}`;
      result.error = parsed;
    } catch {
      result.error = { status: res.status, message };
    }
    errorBox.textContent = message;
    errorBox.hidden = false;
    document.getElementById('pg-result-img').removeAttribute('src');
    document.getElementById('pg-result-info').textContent = `HTTP ${res.status} · ${edgeCache}`;
  } else {
    const size = await imageSize(document.getElementById('pg-result-img'), URL.createObjectURL(body));
    const saving = originalBlob.size ? 1 - body.size / originalBlob.size : 0;
    Object.assign(result, {
      status: res.status, format: body.type, bytes: body.size, ms: Math.round(ms), edgeCache, saving, ...size,
    });
    document.getElementById('pg-result-info').textContent =
      `${body.type} · ${size ? `${size.width}×${size.height}` : '?'} · ${kb(body.size)} · saving ${(saving * 100).toFixed(1)} % · ${Math.round(ms)} ms · ${edgeCache}`;
  }
  state.last = result;
  state.runs += 1;
  state.busy = false;
  return result;
}

async function main() {
  const panel = buildPanel();
  const form = document.getElementById('pg-form');
  await loadOriginals(document.getElementById('pg-original'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    run(form).catch((err) => {
      state.busy = false;
      const box = document.getElementById('pg-error');
      box.textContent = String(err?.message || err);
      box.hidden = false;
    });
  });
  const take = (file) => uploadFile(file).catch((err) => {
    const box = document.getElementById('pg-error');
    box.textContent = String(err?.message || err);
    box.hidden = false;
  });
  document.getElementById('pg-file').addEventListener('change', (e) => e.target.files[0] && take(e.target.files[0]));
  panel.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.getElementById('pg-drop').classList.add('over');
  });
  panel.addEventListener('dragleave', () => document.getElementById('pg-drop').classList.remove('over'));
  panel.addEventListener('drop', (e) => {
    e.preventDefault();
    document.getElementById('pg-drop').classList.remove('over');
    const file = e.dataTransfer?.files?.[0];
    if (file) take(file);
  });
  state.ready = true;
}

main().catch((err) => {
  state.error = String(err?.stack || err);
});
