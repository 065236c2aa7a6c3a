// wasm-vips (libvips compiled with emscripten, pthreads + SIMD). thumbnailBuffer gives
// it the same shrink-on-load path as sharp.
import { packageVersion } from '../lib/pkgversion.mjs';

export async function create({ concurrency }) {
  const { default: Vips } = await import('wasm-vips');
  // Only the HEIF side module is needed (AVIF); skip loading the JPEG XL one.
  const vips = await Vips({ dynamicLibraries: ['vips-heif.wasm'] });
  if (concurrency != null) vips.concurrency(concurrency);
  vips.Cache.max(0);
  const versions = JSON.parse(
    (await import('node:fs')).readFileSync(new URL('../node_modules/wasm-vips/versions.json', import.meta.url), 'utf8'),
  );
  return {
    version: packageVersion('wasm-vips'),
    engine: `libvips ${versions.vips} in WebAssembly (emscripten ${versions.emscripten}, pthreads + SIMD), aom ${versions.aom}`,
    threads: `vips.concurrency()=${vips.concurrency()}${concurrency == null ? ' (default here)' : ''} (worker threads)`,
    settings:
      'Image.thumbnailBuffer (shrink-on-load, lanczos3, autorotate), crop "centre" for cover, ' +
      'output_profile "srgb" (ICC -> sRGB); JPEG: jpegsave Q (no optimize_coding); WebP: Q80 effort 4; ' +
      'AVIF: heifsave Q50 effort 4 (= aom cpu-used 5), 4:2:0; keep none; vips.Cache.max(0)',
    supports: () => true,
    async transform(bytes, spec) {
      const opts = { height: spec.height, size: 'down', output_profile: 'srgb' };
      if (spec.fit === 'cover') opts.crop = 'centre';
      const img = vips.Image.thumbnailBuffer(bytes, spec.width, opts);
      try {
        if (spec.format === 'jpeg') return img.jpegsaveBuffer({ Q: spec.quality, keep: 'none' });
        if (spec.format === 'webp') return img.webpsaveBuffer({ Q: spec.quality, effort: 4, keep: 'none' });
        if (spec.format === 'avif') {
          return img.heifsaveBuffer({ Q: spec.quality, effort: 4, compression: 'av1', subsample_mode: 'on', keep: 'none' });
        }
        throw new Error(`unsupported format ${spec.format}`);
      } finally {
        img.delete();
      }
    },
    async close() {
      vips.shutdown?.();
    },
  };
}
