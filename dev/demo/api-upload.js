// Demo panel of the regional API (issue 14): the presigned-upload loop a browser app runs.
// 1. POST /uploads (development token) → presigned PUT; 2. PUT the file straight to the
// local S3 with the signed headers; 3. the upload pipeline processes it; 4. poll
// GET /images/{id} until completed, then show the variants. The API's URL and token come
// from /__uploads/api/state (dev/api.mjs).

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};

const section = el('section', { id: 'api-upload', 'aria-label': 'Regional API upload' });
section.innerHTML = `
  <h2>Regional API <small>POST /uploads → presigned PUT to S3 → pipeline → GET /images/{id}</small></h2>
  <form id="api-upload-form"><input type="file" id="api-file" accept="image/jpeg,image/png,image/gif,image/webp,image/avif" required>
    <button id="api-send" type="submit">Upload through the API</button>
    <span id="api-status" role="status"></span></form>
  <ol id="api-steps"></ol>
  <div id="api-variants"></div>`;
document.querySelector('main')?.prepend(section);

const status = section.querySelector('#api-status');
const steps = section.querySelector('#api-steps');
const step = (text) => steps.append(el('li', {}, text));

async function apiInfo() {
  const res = await fetch('/__uploads/api/state');
  if (!res.ok) throw new Error(`upload pipeline not running (${res.status})`);
  const { api } = await res.json();
  if (!api?.url) throw new Error('the regional API is not running');
  return api;
}

async function callApi(api, path, init = {}) {
  const res = await fetch(`${api.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${api.token}`, ...(init.headers ?? {}) },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body.message ?? JSON.stringify(body)}`);
  return body;
}

async function run(file) {
  steps.replaceChildren();
  section.querySelector('#api-variants').replaceChildren();
  const api = await apiInfo();
  const upload = await callApi(api, '/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filename: file.name, contentType: file.type, size: file.size }),
  });
  step(`1. presigned PUT for ${upload.key} (image ${upload.imageId}, valid until ${upload.expiresAt})`);
  // The browser sets Content-Length from the body itself.
  const headers = Object.fromEntries(Object.entries(upload.headers).filter(([name]) => name !== 'content-length'));
  const put = await fetch(upload.uploadUrl, { method: upload.method, headers, body: file });
  if (!put.ok) throw new Error(`PUT to S3: ${put.status} ${await put.text()}`);
  step(`2. PUT to S3: ${put.status}`);
  const started = Date.now();
  for (;;) {
    const record = await callApi(api, `/images/${encodeURIComponent(upload.imageId)}`);
    if (record.status !== 'pending') {
      step(`3-4. record ${record.status} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      show(record);
      return record;
    }
    if (Date.now() - started > 120_000) throw new Error('still pending after 2 minutes');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function show(record) {
  const box = section.querySelector('#api-variants');
  if (record.status !== 'completed') {
    box.append(el('p', { class: 'error' }, `${record.error?.code ?? record.status}: ${record.error?.message ?? ''}`));
    return;
  }
  for (const [name, v] of Object.entries(record.variants ?? {})) {
    const img = el('img', { src: `/__uploads/api/object?key=${encodeURIComponent(v.key)}`, alt: name, 'data-variant': name, loading: 'lazy' });
    box.append(el('figure', {}, img, el('figcaption', {}, `${name}: ${v.width}×${v.height} ${v.format}, ${(v.bytes / 1024).toFixed(1)} KB`)));
  }
}

section.querySelector('#api-upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = section.querySelector('#api-file').files[0];
  if (!file) return;
  status.textContent = 'uploading…';
  try {
    const record = await run(file);
    status.textContent = `done: ${record.status}`;
  } catch (err) {
    status.textContent = `failed: ${err.message}`;
  }
});
