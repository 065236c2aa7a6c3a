// The Node side of scripts/transform: one file through the wasm core, loaded with the
// same loader and baked config as the origin-response Lambda (lambda-common/wasm.mjs).

import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { loadShim } from '../../lambda-common/wasm.mjs';

function fail(status, code, message) {
  process.stderr.write(`${JSON.stringify({ status, code, message })}\n`);
  process.exit(1);
}

// --config FILE: use FILE instead of the baked config; watermark keys are paths
// relative to FILE's folder.
const args = process.argv.slice(2);
let configFile;
if (args[0] === '--config') {
  configFile = args[1];
  args.splice(0, 2);
}
const [input, query, output, accept] = args;
if (output === undefined || args.length > 4 || (configFile === undefined && process.argv[2] === '--config')) {
  process.stderr.write('usage: scripts/transform [--config FILE] INPUT QUERY OUTPUT [ACCEPT]\n');
  process.exit(2);
}

let bytes;
try {
  bytes = await readFile(input);
} catch (err) {
  fail(err.code === 'ENOENT' ? 404 : 500, err.code === 'ENOENT' ? 'not_found' : 'internal', `cannot read ${input}: ${err.message}`);
}

let result;
try {
  const shim = await loadShim(new URL('../../edge-shim/pkg/', import.meta.url));
  if (configFile !== undefined) await useConfig(shim, configFile);
  result = shim.transform(bytes, query, accept);
} catch (err) {
  if (Number.isInteger(err?.status) && typeof err?.code === 'string') {
    fail(err.status, err.code, String(err.message));
  }
  // A wasm trap (a Rust panic) or a loader failure: a bug, never a clean 4xx.
  fail(500, 'internal', `${err?.name ?? 'Error'}: ${err?.message ?? err}`);
}

async function useConfig(shim, file) {
  let json;
  try {
    json = await readFile(file, 'utf8');
  } catch (err) {
    fail(500, 'internal', `cannot read config ${file}: ${err.message}`);
  }
  const effective = shim.configure(json);
  for (const [name, mark] of Object.entries(effective.watermarks ?? {})) {
    const path = resolve(dirname(file), mark.key);
    let markBytes;
    try {
      markBytes = await readFile(path);
    } catch (err) {
      fail(500, 'internal', `watermark ${name}: cannot read ${path}: ${err.message}`);
    }
    shim.setWatermark(name, 'file', markBytes);
  }
}

// Write then rename, so OUTPUT is never left half-written.
const partial = `${output}.${process.pid}.partial`;
try {
  await writeFile(partial, result.body);
  await rename(partial, output);
} catch (err) {
  await rm(partial, { force: true });
  fail(500, 'internal', `cannot write ${output}: ${err.message}`);
}
process.stdout.write(
  `${JSON.stringify({ width: result.width, height: result.height, format: result.format, bytes: result.body.length })}\n`,
);
