// Demo panel of the upload pipeline (issue 13): recent uploads with their variants,
// sizes and savings, the SNS notices received, and failed uploads with their error.
// Data: /__uploads/api/state (dev/upload-pipeline.mjs, proxied by the dev server).

const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};
const kb = (bytes) => (bytes === undefined ? '–' : `${(bytes / 1024).toFixed(1)} KB`);
const objectUrl = (key) => `/__uploads/api/object?key=${encodeURIComponent(key)}`;

const section = el('section', { id: 'uploads', 'aria-label': 'Upload pipeline' });
section.innerHTML = `
  <h2>Upload pipeline <small>S3 notification → SQS → upload-processor → DynamoDB + SNS (local AWS)</small></h2>
  <p><input type="file" id="upload-file" accept="image/*"> <button id="upload-send" type="button">Upload to uploads/demo/</button>
     <span id="upload-status" role="status"></span></p>
  <h3>Recent uploads</h3>
  <table id="upload-list"><thead><tr><th>original</th><th>size</th><th>pixels</th><th>variants</th>
    <th>compressed</th><th>savings</th><th>time</th></tr></thead><tbody></tbody></table>
  <h3>Failed uploads</h3>
  <table id="upload-failed"><thead><tr><th>original</th><th>error</th><th>copied to</th></tr></thead><tbody></tbody></table>
  <h3>Notices received (SNS)</h3>
  <table id="upload-notices"><thead><tr><th>time</th><th>status</th><th>message</th></tr></thead><tbody></tbody></table>`;
document.querySelector('main')?.prepend(section);

function variantCells(item) {
  const list = el('ul', { class: 'variants' });
  for (const [name, v] of Object.entries(item.variants ?? {})) {
    for (const [form, x] of Object.entries(v.formats ?? { [v.format]: v })) {
      const img = el('img', { src: objectUrl(x.key), alt: `${name} ${form}`, loading: 'lazy', height: '40' });
      list.append(el('li', { title: x.key }, img, ` ${name} ${form}: ${x.width}×${x.height}, ${kb(x.bytes)}`));
    }
  }
  return list;
}

async function refresh() {
  let state;
  try {
    state = await (await fetch('/__uploads/api/state')).json();
  } catch {
    return;
  }
  const rows = (id, items, cells) => {
    const body = section.querySelector(`#${id} tbody`);
    body.replaceChildren(...items.map((i) => el('tr', {}, ...cells(i).map((c) => el('td', {}, c)))));
  };
  rows('upload-list', state.uploads ?? [], (i) => [
    i.originalKey, kb(i.originalSize), i.width ? `${i.width}×${i.height}` : '–', variantCells(i),
    kb(i.compressedSize), i.savingsPercent === undefined ? '–' : `${i.savingsPercent} %`,
    i.status === 'completed' ? `${i.processingTimeMs} ms` : i.status,
  ]);
  rows('upload-failed', state.failed ?? [], (i) => [i.originalKey, `${i.error?.status} ${i.error?.code}: ${i.error?.message}`, i.errorKey ?? '–']);
  rows('upload-notices', state.notices ?? [], (n) => [n.at, n.status, JSON.stringify(n.message)]);
}

section.querySelector('#upload-send').addEventListener('click', async () => {
  const file = section.querySelector('#upload-file').files?.[0];
  const status = section.querySelector('#upload-status');
  if (!file) return (status.textContent = 'choose a file first');
  status.textContent = 'uploading…';
  const res = await fetch(`/__uploads/api/upload?name=${encodeURIComponent(file.name)}`, { method: 'POST', body: file });
  status.textContent = res.ok ? `uploaded ${(await res.json()).key}; processing…` : `upload failed (${res.status})`;
  refresh();
});

refresh();
setInterval(refresh, 3000);
