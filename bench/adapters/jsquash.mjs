// jSquash (Squoosh codecs as standalone wasm modules): full-size mozjpeg decode, Rust
// resize crate, mozjpeg / libwebp / libavif+aom encoders. In Node each module must be
// handed its compiled wasm, since their loaders only know fetch().
import fs from 'node:fs';

import { packageVersion } from '../lib/pkgversion.mjs';

const wasmUrl = (rel) => new URL(`../node_modules/@jsquash/${rel}`, import.meta.url);
const compile = (rel) => WebAssembly.compile(fs.readFileSync(wasmUrl(rel)));

export async function create() {
  // Node 20 has no ImageData; the codecs only need the three fields.
  globalThis.ImageData ??= class ImageData {
    constructor(data, width, height) {
      this.data = data;
      this.width = width;
      this.height = height;
    }
  };
  const [jpegDec, jpegEnc, webpEnc, avifEnc, resizeMod] = await Promise.all([
    import('@jsquash/jpeg/decode.js'),
    import('@jsquash/jpeg/encode.js'),
    import('@jsquash/webp/encode.js'),
    import('@jsquash/avif/encode.js'),
    import('@jsquash/resize'),
  ]);
  await Promise.all([
    jpegDec.init(await compile('jpeg/codec/dec/mozjpeg_dec.wasm')),
    jpegEnc.init(await compile('jpeg/codec/enc/mozjpeg_enc.wasm')),
    // The SIMD build, as the library picks in a browser that supports it.
    webpEnc.init(await compile('webp/codec/enc/webp_enc_simd.wasm')).catch(async () =>
      webpEnc.init(await compile('webp/codec/enc/webp_enc.wasm')),
    ),
    // Node always gets the single-threaded AVIF build.
    avifEnc.init(await compile('avif/codec/enc/avif_enc.wasm')),
    resizeMod.initResize(fs.readFileSync(wasmUrl('resize/lib/resize/pkg/squoosh_resize_bg.wasm'))),
  ]);
  const versions = ['jpeg', 'webp', 'avif', 'resize'].map((p) => `${p} ${packageVersion(`@jsquash/${p}`)}`);
  return {
    version: versions.join(', '),
    engine: 'WebAssembly (mozjpeg, libwebp SIMD build, libavif+aom single-thread build, Rust resize crate)',
    threads: 'single-threaded',
    settings:
      'decode: full-size mozjpeg to RGBA (no shrink-on-load), preserveOrientation: true (EXIF); ' +
      'resize lanczos3, premultiply false, linearRGB false (sRGB-space like sharp); cover = fitMethod "contain" (centre crop, then resize); ' +
      'JPEG: mozjpeg library defaults + quality (progressive, optimize_coding, trellis); WebP: quality 80, method 4; ' +
      'AVIF: quality 50, speed 5 (library default 6), 4:2:0; ICC ignored',
    supports: () => true,
    async transform(bytes, spec) {
      // The decoder wants an ArrayBuffer of exactly the file.
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const decoded = await jpegDec.default(buf, { preserveOrientation: true });
      const w = decoded.width;
      const h = decoded.height;
      let tw;
      let th;
      if (spec.fit === 'cover') {
        tw = spec.width;
        th = spec.height;
      } else {
        const scale = Math.min(spec.width / w, spec.height / h, 1);
        tw = Math.max(1, Math.round(w * scale));
        th = Math.max(1, Math.round(h * scale));
      }
      const resized =
        tw === w && th === h
          ? decoded
          : await resizeMod.default(decoded, {
              width: tw,
              height: th,
              method: 'lanczos3',
              fitMethod: spec.fit === 'cover' ? 'contain' : 'stretch',
              premultiply: false,
              linearRGB: false,
            });
      let out;
      if (spec.format === 'jpeg') out = await jpegEnc.default(resized, { quality: spec.quality });
      else if (spec.format === 'webp') out = await webpEnc.default(resized, { quality: spec.quality, method: 4 });
      else if (spec.format === 'avif') out = await avifEnc.default(resized, { quality: spec.quality, speed: 5, subsample: 1 });
      else throw new Error(`unsupported format ${spec.format}`);
      return new Uint8Array(out);
    },
  };
}
