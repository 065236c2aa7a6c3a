// This project's wasm core (edge-shim/pkg, wasm-pack --target nodejs), called exactly as
// the origin-response handler calls it: bytes + our query grammar -> encoded bytes.
import fs from 'node:fs';
import { createRequire } from 'node:module';

import { REPO_DIR, taskQuery } from '../lib/specs.mjs';

const require = createRequire(import.meta.url);

export const PKG_DIR = `${REPO_DIR}/edge-shim/pkg`;

/** Path of the wasm-pack entry module, or null when the package is not built. */
export function ourPackageEntry(pkgDir = PKG_DIR) {
  try {
    const pkg = JSON.parse(fs.readFileSync(`${pkgDir}/package.json`, 'utf8'));
    const entry = `${pkgDir}/${pkg.main ?? 'edge_shim.js'}`;
    return fs.existsSync(entry) ? entry : null;
  } catch {
    return null;
  }
}

/** The AVIF encoder's settings as compiled in (read from the source, so the report stays true). */
function avifSettings() {
  try {
    const src = fs.readFileSync(`${REPO_DIR}/edge-core/src/encode/avif.rs`, 'utf8');
    const speed = src.match(/pub const SPEED: u8 = (\d+);/)?.[1] ?? '?';
    const q50 = src.match(/const QUANTIZER_AT_Q50: u8 = (\d+);/)?.[1];
    if (!q50) return `ravif (rav1e) speed ${speed} of 1-10, 4:4:4 (ravif has no 4:2:0), 1 thread`;
    return `rav1e speed ${speed} of 0-10, 4:2:0, quantizer ${q50} at q50, 1 tile, no threads`;
  } catch {
    return 'as edge-core encodes it';
  }
}

export async function create({ pkgDir = PKG_DIR, ref = null } = {}) {
  const entry = ourPackageEntry(pkgDir);
  if (!entry) throw new Error(`${pkgDir} is not built (run scripts/build)`);
  const shim = require(entry);
  // The product bakes config/default.json in and configures once per container.
  const configFile = `${REPO_DIR}/config/default.json`;
  if (typeof shim.configure === 'function' && fs.existsSync(configFile)) {
    shim.configure(fs.readFileSync(configFile, 'utf8'));
  }
  const pkg = JSON.parse(fs.readFileSync(`${pkgDir}/package.json`, 'utf8'));
  const wasmFile = fs.readdirSync(pkgDir).find((f) => f.endsWith('.wasm'));
  const wasmSize = wasmFile ? fs.statSync(`${pkgDir}/${wasmFile}`).size : 0;
  return {
    version: `${pkg.version ?? '?'}${ref ? ` @ ${ref}` : ''} (wasm ${(wasmSize / 1048576).toFixed(1)} MB)`,
    engine: 'edge-core (Rust) in WebAssembly via wasm-bindgen: jpeg-decoder (scaled decode), moxcms, resize crate (Lanczos3), jpeg-encoder, libwebp (SSE2/SSE4.1 paths as wasm SIMD where built so), rav1e',
    threads: 'single-threaded',
    settings:
      'transform(bytes, "w=..&h=..&fit=..&fm=..&q=..") with config/default.json; EXIF orientation and ICC -> sRGB ' +
      `by the core; JPEG: jpeg-encoder baseline, 4:2:0, optimised Huffman; WebP: libwebp lossy, method 4; AVIF: ${avifSettings()}`,
    supports: () => true,
    transform(bytes, spec) {
      const out = shim.transform(bytes, taskQuery(spec));
      return out.body;
    },
    /**
     * The upload pipeline as upload-processor runs it: derived keys from the viewer
     * rules, then `transformMany` (one decode for every variant). Builds without it
     * (before the re-cut) make each variant with its own `transform`.
     */
    transformMany(bytes, specs) {
      if (typeof shim.transformMany !== 'function') {
        const outputs = specs.map((spec) => shim.transform(bytes, taskQuery(spec)));
        return { outputs, note: 'no transformMany in this build: 4 transforms, one decode each' };
      }
      const keys = specs.map((spec) => {
        const r = shim.viewerRequest('/uploads/bench/photo.jpg', taskQuery(spec), 'image/jpeg');
        if (r.action !== 'rewrite') throw new Error(`viewerRequest did not rewrite ${taskQuery(spec)}`);
        return r.key;
      });
      const many = shim.transformMany(bytes, keys);
      for (const o of many.outputs) if (o.error) throw new Error(`${o.key}: ${o.error.code} ${o.error.message}`);
      return { outputs: many.outputs, note: 'transformMany: one decode, 4 variants' };
    },
    /** The core's own stage times (ms) of one transform, from its job context. */
    stages(bytes, spec) {
      return { ...shim.transform(bytes, taskQuery(spec)).timings };
    },
  };
}
