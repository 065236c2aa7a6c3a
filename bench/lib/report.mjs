// Turns the collected measurements into bench/results.md and the console summary.
// Pure functions of the report object, so they are tested without running anything.
import { BASELINE, TASKS } from './specs.mjs';
import { fmt, fmtBytes, fmtMs, fmtRatio, geomean, mean } from './stats.mjs';

/** Libraries compiled to WebAssembly: the ones ours must beat on every cell. */
export const WASM_PEERS = ['wasm-vips', 'wasm-vips-c1', 'jsquash', 'photon'];

/** Issue 16's targets (benchmarks, not timed tests). */
export const TARGETS = {
  ratioT1toT3: 1.2,
  stretch: 1.0,
  ratioT4: 0.8,
  peakRssMB: 256,
  bytesTolerance: 0.1,
  // Mean SSIM may be at most this much below sharp-c1's.
  ssimTolerance: 0.003,
  // The upload pipeline (4 variants of one 12 MP JPEG) vs sharp making the same four
  // from one decoded input.
  ratioUpload: 2.5,
};

/**
 * Lambda@Edge prices (aws.amazon.com/cloudfront/pricing, us-east-1): per request and
 * per GB-second of duration, billed per 1 ms; the origin-response function's memory.
 */
export const LAMBDA_EDGE = { perRequest: 0.6 / 1e6, perGbSecond: 0.00005001, memoryMB: 1536 };
/** The AWS Serverless Image Handler's published cost estimate assumes 350 ms per image. */
export const AWS_IMAGE_HANDLER_MS = 350;

/** US$ for 1 M generated images of `ms` each (billed ms rounded up) at Lambda@Edge prices. */
export function costPerMillion(ms, memoryMB = LAMBDA_EDGE.memoryMB) {
  const gbSeconds = (Math.ceil(ms) / 1000) * (memoryMB / 1024);
  return 1e6 * (LAMBDA_EDGE.perRequest + gbSeconds * LAMBDA_EDGE.perGbSecond);
}

const okCell = (c) => c?.status === 'ok';
const cellOf = (lib, task, input) => lib?.cells.find((c) => c.task === task && c.input === input);

/**
 * Geomean over inputs of lib/baseline for one task and one metric; only inputs where
 * both produced an output count. Flags: caveat (not like for like), badDims.
 */
export function ratio(report, libId, task, metric) {
  const lib = report.libs.find((l) => l.lib === libId);
  const base = report.libs.find((l) => l.lib === BASELINE);
  if (!lib || !base) return { value: NaN };
  const rs = [];
  let caveat = false;
  let badDims = false;
  for (const input of report.inputs) {
    const c = cellOf(lib, task, input.name);
    const b = cellOf(base, task, input.name);
    if (!okCell(c) || !okCell(b)) continue;
    rs.push(metric(c) / metric(b));
    caveat ||= Boolean(c.caveat);
    badDims ||= c.dimsCheck !== 'ok' || c.contentOk === false;
  }
  return { value: geomean(rs), caveat, badDims, n: rs.length };
}

const METRICS = {
  wall: (c) => c.median,
  cpu: (c) => c.cpuMedian,
  bytes: (c) => c.bytes,
};

function ratioText(r) {
  if (!Number.isFinite(r.value)) return 'n/a';
  return `${fmtRatio(r.value)}${r.caveat ? '†' : ''}${r.badDims ? '‡' : ''}`;
}

/** Absolute geomean of the baseline per task (the "1.00x" of every ratio). */
function baselineAbs(report, task, metric) {
  const base = report.libs.find((l) => l.lib === BASELINE);
  if (!base) return NaN;
  return geomean(base.cells.filter((c) => c.task === task && okCell(c)).map(metric));
}

function meanSsim(report, libId, task) {
  const lib = report.libs.find((l) => l.lib === libId);
  if (!lib) return { value: NaN };
  const cells = lib.cells.filter((c) => c.task === task && okCell(c) && Number.isFinite(c.quality?.ssim));
  if (!cells.length) return { value: NaN };
  const worst = cells.reduce((w, c) => (c.quality.ssim < w.quality.ssim ? c : w));
  return {
    value: mean(cells.map((c) => c.quality.ssim)),
    psnr: mean(cells.map((c) => (Number.isFinite(c.quality.psnr) ? c.quality.psnr : 99))),
    worst: worst.quality.ssim,
    worstInput: worst.input,
  };
}

/** Pass/fail of each target for `ours`, with the numbers behind it. */
export function targetsCheck(report) {
  const ours = report.libs.find((l) => l.lib === 'ours');
  const base = report.libs.find((l) => l.lib === BASELINE);
  if (!ours || ours.fatal) return { available: false, reason: ours?.fatal ?? '`ours` was not part of this run' };
  if (!base || base.fatal) return { available: false, reason: `the baseline \`${BASELINE}\` was not part of this run` };
  const rows = [];
  const add = (target, value, pass, note = '') => rows.push({ target, value, pass, note });
  for (const task of report.tasks) {
    const r = ratio(report, 'ours', task, METRICS.wall);
    const limit = task === 'T4' ? TARGETS.ratioT4 : TARGETS.ratioT1toT3;
    const stretch = task !== 'T4' && r.value <= TARGETS.stretch ? ' (stretch ≤ 1.0x met)' : '';
    add(`${task} wall ≤ ${limit.toFixed(1)}x ${BASELINE}`, fmtRatio(r.value), r.value <= limit, stretch);
  }
  const up = uploadRatio(report, 'ours');
  if (Number.isFinite(up.value)) {
    add(`upload pipeline (4 variants) wall ≤ ${TARGETS.ratioUpload}x ${BASELINE}`, fmtRatio(up.value), up.value <= TARGETS.ratioUpload, up.note);
  }
  const peers = WASM_PEERS.filter((p) => report.libs.some((l) => l.lib === p && !l.fatal));
  for (const task of report.tasks) {
    let total = 0;
    let won = 0;
    const lost = [];
    for (const peer of peers) {
      const pl = report.libs.find((l) => l.lib === peer);
      for (const input of report.inputs) {
        const o = cellOf(ours, task, input.name);
        const p = cellOf(pl, task, input.name);
        if (!okCell(p)) continue; // the peer cannot do it: nothing to beat
        total++;
        if (okCell(o) && o.median < p.median) won++;
        else lost.push(`${peer}/${input.name}`);
      }
    }
    if (total) {
      add(
        `${task} faster than every wasm peer`,
        `${won}/${total} cells`,
        won === total,
        lost.length ? `slower: ${lost.slice(0, 4).join(', ')}${lost.length > 4 ? ', …' : ''}` : '',
      );
    }
  }
  // One row per Node binary the cold starts ran under.
  for (const [version, cs] of Object.entries(report.coldstart?.node ?? {})) {
    if (!cs.libs.ours?.medianMs || !cs.libs[BASELINE]?.medianMs) continue;
    const o = cs.libs.ours.medianMs;
    const s = cs.libs[BASELINE].medianMs;
    add(`cold start ≤ ${BASELINE}'s (node ${version})`, `${fmtMs(o)} vs ${fmtMs(s)}`, o <= s);
  }
  const rss = report.rss?.libs?.ours;
  if (rss && Number.isFinite(rss.after1MB)) {
    add(`peak RSS (T3, ${report.rss.input}) ≤ ${TARGETS.peakRssMB} MB`, `${fmt(rss.after1MB)} MB`, rss.after1MB <= TARGETS.peakRssMB);
  }
  for (const task of report.tasks) {
    const r = ratio(report, 'ours', task, METRICS.bytes);
    const q = qualityDelta(report, task);
    const within = Math.abs(r.value - 1) <= TARGETS.bytesTolerance;
    const smallerAndAsGood = r.value < 1 - TARGETS.bytesTolerance && q.pass === true;
    add(
      `${task} bytes within ±10% of ${BASELINE}`,
      fmtRatio(r.value),
      within || smallerAndAsGood,
      smallerAndAsGood ? 'smaller, at no worse quality' : '',
    );
  }
  for (const task of report.tasks) {
    const q = qualityDelta(report, task);
    if (q.pass === null) continue;
    add(
      `${task} quality no worse than ${BASELINE} (mean SSIM, tolerance ${TARGETS.ssimTolerance})`,
      `${q.ours.toFixed(4)} vs ${q.base.toFixed(4)}`,
      q.pass,
    );
  }
  return { available: true, rows };
}

/** ours/baseline of the upload-pipeline medians, when both ran it. */
export function uploadRatio(report, libId) {
  const o = report.libs.find((l) => l.lib === libId)?.upload;
  const b = report.libs.find((l) => l.lib === BASELINE)?.upload;
  if (o?.status !== 'ok' || b?.status !== 'ok') return { value: NaN };
  return { value: o.median / b.median, note: o.note ?? '' };
}

function qualityDelta(report, task) {
  const o = meanSsim(report, 'ours', task).value;
  const b = meanSsim(report, BASELINE, task).value;
  if (!Number.isFinite(o) || !Number.isFinite(b)) return { pass: null };
  return { ours: o, base: b, pass: o >= b - TARGETS.ssimTolerance };
}

// ------------------------------------------------------------------------- markdown

const mdRow = (cells) => `| ${cells.join(' | ')} |`;
const mdTable = (head, rows) => [mdRow(head), mdRow(head.map(() => '---')), ...rows.map(mdRow)].join('\n');

function dimsMark(c) {
  if (c.dimsCheck === 'ok') return '✓';
  if (c.dimsCheck === 'rotated') return '✗ rotated';
  return `✗ ${c.dimsCheck}`;
}

function cellText(c) {
  if (!c) return '-';
  if (c.status === 'unsupported') return `n/a (${c.reason})`;
  if (c.status === 'error') return `✗ error: ${c.reason.replace(/\|/g, '/').slice(0, 80)}`;
  const q = Number.isFinite(c.quality?.ssim) ? ` SSIM ${c.quality.ssim.toFixed(3)}${c.contentOk === false ? ' ⚠ content differs' : ''}` : '';
  const dims = c.dims ? `${c.dims.width}x${c.dims.height} ` : '';
  return `**${fmt(c.median)}** / ${fmt(c.min)} ms<br>${fmtBytes(c.bytes)} ${dims}${dimsMark(c)}${q}${c.caveat ? ' †' : ''}`;
}

/**
 * `notes`: a hand-written `<!-- notes:start -->…<!-- notes:end -->` block from the
 * previous report, placed after the header so findings survive a re-run.
 */
export function renderMarkdown(report, notes = null) {
  const m = report.meta;
  const s = report.settings;
  const libs = report.libs;
  const ids = libs.map((l) => l.lib);
  const out = [];
  out.push('# Benchmark: edge-resizer wasm core vs sharp, wasm-vips, jSquash, photon', '');
  const command = ['scripts/bench', ...s.argv].join(' ');
  out.push(
    `Generated by \`${command}\` on ${m.startedAt.slice(0, 16).replace('T', ' ')} UTC. ` +
      'Tables are generated; compare libraries within one run only.',
  );
  if (s.quick) out.push('', '> **Quick run** (`--quick`: fewer runs and inputs): a smoke test, not a measurement.');
  const busy = Math.max(...m.loadBefore.slice(0, 1), ...(m.loadAfter ?? []).slice(0, 1));
  if (busy >= 0.5) {
    out.push(
      '',
      `> **Noisy machine**: load average ${m.loadBefore[0].toFixed(2)} before the run` +
        `${m.loadAfter ? `, ${m.loadAfter[0].toFixed(2)} after` : ''}. See "CPU of other processes" per library.`,
    );
  }

  out.push(
    '',
    notes ??
      '<!-- notes:start -->\n_Findings: write them here; this block is kept when the report is regenerated._\n<!-- notes:end -->',
  );

  out.push('', '## Machine', '');
  out.push(`- \`nproc\`: **${m.nproc}** (${m.cpuModel}), ${m.memGiB.toFixed(1)} GiB RAM, ${m.os}, ${m.arch}`);
  out.push(`- Node **${m.node}** (V8 ${m.v8}), UV_THREADPOOL_SIZE ${m.uvThreadpool}`);
  out.push(`- Load average (1 min) before / after: ${m.loadBefore[0].toFixed(2)} / ${m.loadAfter ? m.loadAfter[0].toFixed(2) : '-'}`);
  out.push(
    `- Method: each library in its own process, sequentially, in ${s.passes ?? 1} pass${(s.passes ?? 1) > 1 ? 'es' : ''} over the libraries; ` +
      `per cell and pass ${s.warmup} warm-up runs, and ${s.runs} timed runs in all, of ` +
      '`transform(bytes, spec)` (bytes in memory -> encoded bytes, as the origin handler does); wall = `performance.now()`, ' +
      'CPU = `process.cpuUsage()` delta (all threads of the process: CPU > wall means several threads worked).',
  );

  out.push('', '## Libraries', '');
  out.push(
    mdTable(
      ['id', 'version', 'engine', 'threads', 'matrix run: s / CPU of other processes'],
      libs.map((l) => [
        `\`${l.lib}\``,
        l.info?.version ?? '-',
        l.fatal ? `**failed: ${l.fatal}**` : l.info.engine,
        l.info?.threads ?? '-',
        `${fmt(l.matrixWallS)} s / ${l.othersCores.toFixed(2)} cores`,
      ]),
    ),
  );
  out.push('');
  for (const l of libs) if (l.info) out.push(`- **${l.lib}**: ${l.info.settings}`);

  out.push('', '## Operations', '');
  out.push(mdTable(['op', 'spec'], report.tasks.map((t) => [t, TASKS[t].title + ' (EXIF orientation applied where the library can)'])));
  out.push(
    '',
    'Inputs (upright size after EXIF orientation): ' +
      report.inputs
        .map((i) => `\`${i.name}\` ${i.width}x${i.height}${i.orientation !== 1 ? ` (EXIF ${i.orientation})` : ''}`)
        .join(', ') +
      '.',
  );

  const tc = targetsCheck(report);
  out.push('', '## Targets (ours)', '');
  if (!tc.available) out.push(`Not checked: ${tc.reason}.`);
  else {
    out.push(mdTable(['target', 'measured', 'result', 'note'], tc.rows.map((r) => [r.target, r.value, r.pass ? '✅ pass' : '❌ miss', r.note])));
  }

  out.push('', `## Ratio to \`${BASELINE}\` (sharp, concurrency 1)`, '');
  out.push(
    'Geometric mean over the inputs of (library median / baseline median); >1 = slower / bigger. Only inputs where both ' +
      'produced an output count. † = not like for like (e.g. lossless instead of lossy WebP); ‡ = includes outputs that ' +
      'failed the dimension or content check (e.g. EXIF orientation not applied).',
    '',
  );
  const head = ['lib'];
  for (const k of ['wall', 'CPU', 'bytes']) for (const t of report.tasks) head.push(`${t} ${k}`);
  const absRow = [`\`${BASELINE}\` absolute (geomean)`];
  for (const t of report.tasks) absRow.push(fmtMs(baselineAbs(report, t, METRICS.wall)));
  for (const t of report.tasks) absRow.push(fmtMs(baselineAbs(report, t, METRICS.cpu)));
  for (const t of report.tasks) absRow.push(fmtBytes(baselineAbs(report, t, METRICS.bytes)));
  const rows = [absRow];
  for (const id of ids.filter((i) => i !== BASELINE)) {
    const row = [`\`${id}\``];
    for (const metric of [METRICS.wall, METRICS.cpu, METRICS.bytes]) {
      for (const t of report.tasks) row.push(ratioText(ratio(report, id, t, metric)));
    }
    rows.push(row);
  }
  out.push(mdTable(head, rows));

  for (const t of report.tasks) {
    out.push('', `## ${t}: ${TASKS[t].title}`, '');
    out.push(
      'Cell: **median** / min wall over the timed runs, output size and dimensions, dimension check (✓ = expected size ±1 px), ' +
        'SSIM against the reference rendering.',
      '',
    );
    out.push(
      mdTable(
        ['input', ...ids.map((i) => `\`${i}\``)],
        report.inputs.map((inp) => [
          `${inp.name}<br>${inp.width}x${inp.height}`,
          ...libs.map((l) => cellText(cellOf(l, t, inp.name))),
        ]),
      ),
    );
    out.push('', 'Median CPU ms (all threads of the process) for the same cells:', '');
    out.push(
      mdTable(
        ['input', ...ids.map((i) => `\`${i}\``)],
        report.inputs.map((inp) => [
          inp.name,
          ...libs.map((l) => {
            const c = cellOf(l, t, inp.name);
            return okCell(c) ? fmt(c.cpuMedian) : '-';
          }),
        ]),
      ),
    );
  }

  out.push(...uploadSection(report), ...costSection(report), ...compareSection(report));

  out.push('', '## Cold start', '');
  const cs = report.coldstart;
  if (!cs) out.push('Not measured (`--no-coldstart`).');
  else {
    out.push(
      `A fresh \`node bench/lib/coldstart.mjs <lib> ${cs.input}\` process imports the adapter (and so the library), ` +
        `initialises it, reads the input, does one T2 and exits; spawn-to-exit wall measured by the parent, median of ` +
        `${cs.runs} rounds in which the libraries take turns, after one unmeasured run each (OS file cache).`,
    );
    for (const [version, run] of Object.entries(cs.node)) {
      out.push(
        '',
        `**Node ${version}.** An empty node process takes **${fmtMs(run.emptyNodeMs)}** here.`,
        '',
        mdTable(
          ['lib', 'process wall median', 'min', 'minus empty node', 'import+init (in-process)', 'first T2 (in-process)'],
          Object.entries(run.libs).map(([id, r]) =>
            r.error
              ? [`\`${id}\``, `✗ ${r.error}`, '', '', '', '']
              : [`\`${id}\``, `**${fmtMs(r.medianMs)}**`, fmtMs(r.minMs), fmtMs(r.medianMs - run.emptyNodeMs), fmtMs(r.importInitMs), fmtMs(r.firstOpMs)],
          ),
        ),
      );
    }
  }

  out.push('', '## Peak memory', '');
  const rss = report.rss;
  if (!rss) out.push('Not measured (`--no-rss`).');
  else {
    out.push(
      'Fresh process per library: peak resident memory (VmHWM of /proc/self/status; `process.resourceUsage().maxRSS` where ' +
        'there is no /proc; MB = 10^6 bytes) at start, after loading the library, ' +
        `after one T3 on the largest input (\`${rss.input}\`, ${rss.inputWidth}x${rss.inputHeight} = ` +
        `${((rss.inputWidth * rss.inputHeight) / 1e6).toFixed(1)} MP), then after 4 more.`,
      '',
    );
    out.push(
      mdTable(
        ['lib', 'bare node', 'after import+init', 'peak after 1x T3', 'peak after 5x T3'],
        Object.entries(rss.libs).map(([id, r]) =>
          r.error
            ? [`\`${id}\``, `✗ ${r.error}`, '', '', '']
            : [`\`${id}\``, `${fmt(r.bareMB)} MB`, `${fmt(r.afterInitMB)} MB`, `**${fmt(r.after1MB)} MB**`, `${fmt(r.after5MB)} MB`],
        ),
      ),
    );
  }

  out.push('', '## Quality', '');
  if (report.qualityNote) out.push(`Not measured: ${report.qualityNote}.`);
  else {
    out.push(
      'Each output is decoded (sharp) and compared with a reference rendering of the same task: sharp, EXIF applied, ' +
        'embedded ICC converted to sRGB, Lanczos3 from the full-size decode (`fastShrinkOnLoad: false`), raw RGB. ' +
        'SSIM on BT.601 luma (8x8 windows, stride 4); PSNR on RGB. An output whose size differs from the reference is ' +
        'stretched to it first, so a wrong orientation scores low. Cell: mean SSIM over the inputs (mean PSNR), worst input.',
      '',
    );
    out.push(
      mdTable(
        ['lib', ...report.tasks],
        ids.map((id) => [
          `\`${id}\``,
          ...report.tasks.map((t) => {
            const q = meanSsim(report, id, t);
            return Number.isFinite(q.value)
              ? `${q.value.toFixed(4)} (${q.psnr.toFixed(1)} dB), worst ${q.worst.toFixed(3)} ${q.worstInput}`
              : '-';
          }),
        ]),
      ),
    );
  }

  const problems = [];
  for (const l of libs) {
    if (l.fatal) problems.push(`- \`${l.lib}\`: ${l.fatal}`);
    for (const c of l.cells) {
      if (c.status === 'error') problems.push(`- \`${l.lib}\` ${c.task} ${c.input}: error: ${c.reason}`);
      else if (c.status === 'ok' && c.dimsCheck !== 'ok') {
        problems.push(
          `- \`${l.lib}\` ${c.task} ${c.input}: ${c.dimsCheck} (got ${c.dims ? `${c.dims.width}x${c.dims.height}` : '?'}, ` +
            `expected ${c.expected.width}x${c.expected.height})`,
        );
      } else if (c.status === 'ok' && c.contentOk === false) {
        problems.push(`- \`${l.lib}\` ${c.task} ${c.input}: another picture than the reference (SSIM ${c.quality.ssim.toFixed(2)}): orientation or colours wrong`);
      } else if (c.caveat && c.input === report.inputs[0].name) problems.push(`- \`${l.lib}\` ${c.task}: ${c.caveat}`);
    }
  }
  if (problems.length) out.push('', '## Could not do / caveats', '', ...problems);
  out.push('');
  return out.join('\n');
}

function uploadSection(report) {
  const rows = report.libs.filter((l) => l.upload);
  if (!rows.length) return [];
  const up = rows[0].upload;
  const out = ['', '## Upload pipeline', ''];
  out.push(
    `The default eager set, four variants of \`${up.input}\` (${up.variants.map((v) => `\`${v}\``).join(', ')}), ` +
      `${report.settings.warmup} warm-up + ${report.settings.runs} timed runs. sharp: one decode (EXIF applied) to raw pixels, ` +
      'then the four resizes and encodes from that buffer. Ours: as stated per row.',
    '',
  );
  out.push(
    mdTable(
      ['lib', 'median', 'min', 'CPU median', `ratio to ${BASELINE}`, 'outputs', 'how'],
      rows.map((l) => {
        const u = l.upload;
        if (u.status !== 'ok') return [`\`${l.lib}\``, `✗ ${u.reason ?? u.status}`, '', '', '', '', ''];
        const r = uploadRatio(report, l.lib);
        return [
          `\`${l.lib}\``,
          `**${fmtMs(u.median)}**`,
          fmtMs(u.min),
          fmtMs(u.cpuMedian),
          l.lib === BASELINE ? '1.00x' : ratioText(r),
          u.outputs.map((o) => `${o.width}x${o.height} ${o.format} ${fmtBytes(o.bytes)}`).join(', '),
          u.note ?? '',
        ];
      }),
    ),
  );
  return out;
}

function costSection(report) {
  const base = report.libs.find((l) => l.lib === BASELINE);
  const ours = report.libs.find((l) => l.lib === 'ours');
  if (!ours || ours.fatal) return [];
  const gb = LAMBDA_EDGE.memoryMB / 1024;
  const out = ['', '## Cost per task (Lambda@Edge)', ''];
  out.push(
    `Median wall (geomean over the inputs) × ${gb.toFixed(1)} GB (the origin-response function's ${LAMBDA_EDGE.memoryMB} MB), ` +
      `at $${LAMBDA_EDGE.perGbSecond} per GB-second (billed per 1 ms) plus $${(LAMBDA_EDGE.perRequest * 1e6).toFixed(2)} per ` +
      '1 M requests; US$ for 1 M generated images (cache misses). At 90 % cache hits, 1 M viewer requests make 100 k of ' +
      `them (a tenth of the figure). Beside it: the AWS Serverless Image Handler's published estimate of ${AWS_IMAGE_HANDLER_MS} ms ` +
      'per image, at the same memory and prices. Timings are from this machine, not Lambda.',
    '',
  );
  const rows = [];
  const geo = (lib, t) => geomean(lib.cells.filter((c) => c.task === t && okCell(c)).map((c) => c.median));
  for (const t of report.tasks) {
    const ms = geo(ours, t);
    const sharpMs = base ? geo(base, t) : NaN;
    rows.push([
      t,
      fmtMs(ms),
      `${((ms / 1000) * gb).toPrecision(3)} GB-s`,
      `$${costPerMillion(ms).toFixed(2)}`,
      Number.isFinite(sharpMs) ? `${fmtMs(sharpMs)}: $${costPerMillion(sharpMs).toFixed(2)}` : '-',
      `$${costPerMillion(AWS_IMAGE_HANDLER_MS).toFixed(2)}`,
    ]);
  }
  if (ours.upload?.status === 'ok') {
    const ms = ours.upload.median;
    const sharpMs = base?.upload?.status === 'ok' ? base.upload.median : NaN;
    rows.push([
      'upload (4 variants)',
      fmtMs(ms),
      `${((ms / 1000) * gb).toPrecision(3)} GB-s`,
      `$${costPerMillion(ms).toFixed(2)}`,
      Number.isFinite(sharpMs) ? `${fmtMs(sharpMs)}: $${costPerMillion(sharpMs).toFixed(2)}` : '-',
      `$${costPerMillion(4 * AWS_IMAGE_HANDLER_MS).toFixed(2)} (4 × ${AWS_IMAGE_HANDLER_MS} ms)`,
    ]);
  }
  out.push(
    mdTable(['task', 'ours ms', 'GB-seconds per image', 'ours $ / 1 M', `${BASELINE} ms: $ / 1 M`, `AWS image handler (${AWS_IMAGE_HANDLER_MS} ms) $ / 1 M`], rows),
  );
  return out;
}

/** `--compare REF`: the current tree beside a git ref's build, same run. */
function compareSection(report) {
  const other = report.libs.find((l) => l.lib.startsWith('ours@'));
  const ours = report.libs.find((l) => l.lib === 'ours');
  if (!other || !ours) return [];
  const out = ['', `## Compare: \`ours\` (this tree) vs \`${other.lib}\``, ''];
  out.push('Per task: geomean over the inputs of this tree / the ref (<1 = this tree is faster / smaller), and mean SSIM of each.', '');
  const geoRatio = (t, metric) => {
    const rs = [];
    for (const input of report.inputs) {
      const a = cellOf(ours, t, input.name);
      const b = cellOf(other, t, input.name);
      if (okCell(a) && okCell(b)) rs.push(metric(a) / metric(b));
    }
    return geomean(rs);
  };
  out.push(
    mdTable(
      ['task', 'wall', 'CPU', 'bytes', 'SSIM this tree', `SSIM ${other.lib}`],
      report.tasks.map((t) => [
        t,
        fmtRatio(geoRatio(t, METRICS.wall)),
        fmtRatio(geoRatio(t, METRICS.cpu)),
        fmtRatio(geoRatio(t, METRICS.bytes)),
        Number.isFinite(meanSsim(report, 'ours', t).value) ? meanSsim(report, 'ours', t).value.toFixed(4) : '-',
        Number.isFinite(meanSsim(report, other.lib, t).value) ? meanSsim(report, other.lib, t).value.toFixed(4) : '-',
      ]),
    ),
  );
  if (ours.upload?.status === 'ok' && other.upload?.status === 'ok') {
    out.push('', `Upload pipeline: ${fmtMs(ours.upload.median)} vs ${fmtMs(other.upload.median)} (${fmtRatio(ours.upload.median / other.upload.median)}).`);
  }
  return out;
}

// -------------------------------------------------------------------------- console

function textTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n');
}

export function renderConsole(report) {
  const lines = [];
  const ids = report.libs.map((l) => l.lib);
  const base = report.libs.find((l) => l.lib === BASELINE);
  lines.push('', `Ratio to ${BASELINE} (median wall, geomean over inputs; >1 = slower)`);
  const rows = [['lib', ...report.tasks]];
  if (base) rows.push([`${BASELINE} (abs)`, ...report.tasks.map((t) => fmtMs(baselineAbs(report, t, METRICS.wall)))]);
  for (const id of ids.filter((i) => i !== BASELINE)) {
    const l = report.libs.find((x) => x.lib === id);
    if (l.fatal) rows.push([id, ...report.tasks.map(() => 'failed')]);
    else if (!base) {
      // No baseline in this run: show absolute geomeans instead of ratios.
      rows.push([`${id} (abs)`, ...report.tasks.map((t) => fmtMs(geomean(l.cells.filter((c) => c.task === t && okCell(c)).map((c) => c.median))))]);
    } else rows.push([id, ...report.tasks.map((t) => ratioText(ratio(report, id, t, METRICS.wall)))]);
  }
  lines.push(textTable(rows));
  const tc = targetsCheck(report);
  if (tc.available) {
    lines.push('', 'Targets (ours):');
    for (const r of tc.rows) lines.push(`  ${r.pass ? 'pass' : 'MISS'}  ${r.target}: ${r.value}${r.note ? ` (${r.note})` : ''}`);
  }
  return lines.join('\n');
}
