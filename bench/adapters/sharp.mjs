// sharp (native libvips): the baseline. `concurrency: 1` is the fair comparison with
// single-threaded wasm; `null` keeps sharp's own default for this machine.
import { packageVersion } from '../lib/pkgversion.mjs';

export async function create({ concurrency }) {
  const { default: sharp } = await import('sharp');
  if (concurrency != null) sharp.concurrency(concurrency);
  // Every run must do the full work: no operation cache between runs.
  sharp.cache(false);
  const v = sharp.versions;
  const threads = sharp.concurrency();
  return {
    version: packageVersion('sharp'),
    engine: `native libvips ${v.vips}, mozjpeg ${v.mozjpeg ?? '?'}, libwebp ${v.webp ?? '?'}, libheif ${v.heif ?? '?'} + aom ${v.aom ?? '?'}`,
    threads: `sharp.concurrency()=${threads}${concurrency == null ? ' (its default here)' : ''} (libvips threads per image)`,
    settings:
      'rotate() (EXIF), resize lanczos3 (default) with JPEG shrink-on-load, ICC -> sRGB (default); ' +
      'JPEG: mozjpeg defaults + quality (baseline, optimiseCoding, 4:2:0); WebP: lossy, effort 4; ' +
      'AVIF: quality 50, effort 4 (= aom cpu-used 5), chromaSubsampling 4:2:0; metadata stripped; sharp.cache(false)',
    supports: () => true,
    async transform(bytes, spec) {
      let img = sharp(bytes).rotate().resize(spec.width, spec.height, { fit: spec.fit });
      if (spec.format === 'jpeg') img = img.jpeg({ quality: spec.quality });
      else if (spec.format === 'webp') img = img.webp({ quality: spec.quality, effort: 4 });
      else if (spec.format === 'avif') img = img.avif({ quality: spec.quality, effort: 4, chromaSubsampling: '4:2:0' });
      else throw new Error(`unsupported format ${spec.format}`);
      return new Uint8Array(await img.toBuffer());
    },
    /** The upload pipeline: one decode (EXIF applied) to raw pixels, every variant from it. */
    async transformMany(bytes, specs) {
      const { data, info } = await sharp(bytes).rotate().raw().toBuffer({ resolveWithObject: true });
      const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
      const outs = [];
      for (const spec of specs) {
        let img = sharp(data, raw).resize(spec.width, spec.height, { fit: spec.fit });
        img = spec.format === 'webp' ? img.webp({ quality: spec.quality, effort: 4 }) : img.jpeg({ quality: spec.quality });
        const { data: body, info: out } = await img.toBuffer({ resolveWithObject: true });
        outs.push({ body, width: out.width, height: out.height, format: out.format });
      }
      return { outputs: outs, note: 'one decode to raw, then 4 resizes + encodes from it' };
    },
  };
}
