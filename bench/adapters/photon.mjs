// photon (photon-rs in wasm, image-rs codecs). No EXIF orientation, lossless-only WebP
// and no AVIF: reported as such, not hidden.
import { createRequire } from 'node:module';

import { packageVersion } from '../lib/pkgversion.mjs';

const require = createRequire(import.meta.url);

export async function create() {
  const photon = require('@silvia-odwyer/photon-node');
  return {
    version: packageVersion('@silvia-odwyer/photon-node'),
    engine: 'photon-rs in WebAssembly (image-rs decoders/encoders), wasm-bindgen',
    threads: 'single-threaded',
    settings:
      'PhotonImage.new_from_byteslice (full decode, no shrink-on-load, no EXIF orientation), ' +
      'resize Lanczos3, cover = resize to cover then centre crop; JPEG get_bytes_jpeg(q); ' +
      'WebP get_bytes_webp() is lossless only (not comparable); no AVIF; ICC ignored',
    supports: (spec) => (spec.format === 'avif' ? 'no AVIF encoder' : true),
    caveat: (spec) => (spec.format === 'webp' ? 'lossless only (no lossy WebP encoder)' : null),
    async transform(bytes, spec) {
      const img = photon.PhotonImage.new_from_byteslice(bytes);
      let out;
      try {
        const w = img.get_width();
        const h = img.get_height();
        const scale =
          spec.fit === 'cover'
            ? Math.max(spec.width / w, spec.height / h)
            : Math.min(spec.width / w, spec.height / h, 1);
        const rw = Math.max(1, Math.round(w * scale));
        const rh = Math.max(1, Math.round(h * scale));
        out = photon.resize(img, rw, rh, photon.SamplingFilter.Lanczos3);
        if (spec.fit === 'cover' && (rw !== spec.width || rh !== spec.height)) {
          const x = Math.floor((rw - spec.width) / 2);
          const y = Math.floor((rh - spec.height) / 2);
          const cropped = photon.crop(out, x, y, x + spec.width, y + spec.height);
          out.free();
          out = cropped;
        }
        if (spec.format === 'jpeg') return out.get_bytes_jpeg(spec.quality);
        if (spec.format === 'webp') return out.get_bytes_webp();
        throw new Error(`unsupported format ${spec.format}`);
      } finally {
        img.free();
        out?.free();
      }
    },
  };
}
