// This project's wasm core (edge-shim/pkg, wasm-pack --target nodejs), called exactly as
// the origin-response handler calls it: bytes + our query grammar -> encoded bytes.
import fs from 'node:fs';
import { createRequire } from 'node:module';

import { REPO_DIR, taskQuery } from '../lib/specs.mjs';

const require = createRequire(import.meta.url);

export const PKG_DIR = `${REPO_DIR}/edge-shim/pkg`;

/** Path of the wasm-pack entry module, or null when the package is not built. */
export function ourPackageEntry() {
  try {
    const pkg = JSON.parse(fs.readFileSync(`${PKG_DIR}/package.json`, 'utf8'));
    const entry = `${PKG_DIR}/${pkg.main ?? 'edge_shim.js'}`;
    return fs.existsSync(entry) ? entry : null;
  } catch {
    return null;
  }
}

/** The AVIF encoder's speed as compiled in (read from the source, so the report stays true). */
function avifSettings() {
  try {
    const src = fs.readFileSync(`${REPO_DIR}/edge-core/src/encode/avif.rs`, 'utf8');
    const speed = src.match(/pub const SPEED: u8 = (\d+);/)?.[1] ?? '?';
    return `ravif (rav1e) speed ${speed} of 1-10, 4:4:4 (ravif has no 4:2:0), 1 thread`;
  } catch {
    return 'as edge-core encodes it';
  }
}

export async function create() {
  const entry = ourPackageEntry();
  if (!entry) throw new Error(`${PKG_DIR} is not built (run scripts/build)`);
  const shim = require(entry);
  // The product bakes config/default.json in and configures once per container.
  const configFile = `${REPO_DIR}/config/default.json`;
  if (typeof shim.configure === 'function' && fs.existsSync(configFile)) {
    shim.configure(fs.readFileSync(configFile, 'utf8'));
  }
  const pkg = JSON.parse(fs.readFileSync(`${PKG_DIR}/package.json`, 'utf8'));
  const wasmFile = fs.readdirSync(PKG_DIR).find((f) => f.endsWith('.wasm'));
  const wasmSize = wasmFile ? fs.statSync(`${PKG_DIR}/${wasmFile}`).size : 0;
  return {
    version: `${pkg.version ?? '?'} (wasm ${(wasmSize / 1048576).toFixed(1)} MB)`,
    engine: 'edge-core (Rust) in WebAssembly via wasm-bindgen: jpeg-decoder (scaled decode), moxcms, resize crate (Lanczos3), jpeg-encoder, libwebp, ravif (rav1e)',
    threads: 'single-threaded',
    settings:
      'transform(bytes, "w=..&h=..&fit=..&fm=..&q=..") with config/default.json; EXIF orientation and ICC -> sRGB ' +
      `by the core; JPEG: jpeg-encoder baseline, 4:2:0, optimised Huffman; WebP: libwebp lossy, method 4; AVIF: ${avifSettings()}`,
    supports: () => true,
    transform(bytes, spec) {
      const out = shim.transform(bytes, taskQuery(spec));
      return out.body;
    },
    /** The core's own stage times (ms) of one transform, from its job context. */
    stages(bytes, spec) {
      return { ...shim.transform(bytes, taskQuery(spec)).timings };
    },
  };
}
