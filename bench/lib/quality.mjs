// Quality of an output against a reference rendering of the same task: SSIM on luma
// (8x8 windows, stride 4, the usual constants) and PSNR on RGB. Pixel decoding needs
// sharp, so this only runs where the bench dependencies are installed.

/** BT.601 luma of packed RGB, as floats. */
export function luma(rgb, width, height) {
  const y = new Float32Array(width * height);
  for (let i = 0, p = 0; i < y.length; i++, p += 3) {
    y[i] = 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2];
  }
  return y;
}

const WINDOW = 8;
const STRIDE = 4;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/** Mean SSIM of two equally sized luma planes (1 = identical). */
export function ssim(a, b, width, height) {
  if (a.length !== b.length || a.length !== width * height) throw new Error('ssim: size mismatch');
  // Images smaller than one window are compared as a single window.
  const win = Math.min(WINDOW, width, height);
  const n = win * win;
  let sum = 0;
  let count = 0;
  for (let y0 = 0; y0 + win <= height; y0 += STRIDE) {
    for (let x0 = 0; x0 + win <= width; x0 += STRIDE) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = y0; y < y0 + win; y++) {
        let i = y * width + x0;
        for (let x = 0; x < win; x++, i++) {
          const va = a[i];
          const vb = b[i];
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      sum += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      count++;
    }
  }
  return sum / count;
}

/** PSNR in dB of two equally sized 8-bit buffers (Infinity when identical). */
export function psnr(a, b) {
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  if (se === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

/**
 * Compares outputs against sharp's high-quality rendering: EXIF applied, embedded ICC
 * converted to sRGB, Lanczos3 from the full-size decode (no shrink-on-load).
 */
export class QualityJudge {
  constructor(sharp) {
    this.sharp = sharp;
    this.references = new Map();
  }

  async reference(inputPath, spec) {
    const key = `${inputPath}|${spec.id}`;
    if (!this.references.has(key)) {
      const { data, info } = await this.sharp(inputPath)
        .rotate()
        .resize(spec.width, spec.height, { fit: spec.fit, kernel: 'lanczos3', fastShrinkOnLoad: false })
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      this.references.set(key, { data, width: info.width, height: info.height, luma: luma(data, info.width, info.height) });
    }
    return this.references.get(key);
  }

  /** { ssim, psnr, resampled } of one encoded output; resampled = its size differed. */
  async judge(inputPath, spec, outputBytes) {
    const ref = await this.reference(inputPath, spec);
    let img = this.sharp(outputBytes).removeAlpha().toColourspace('srgb');
    const meta = await this.sharp(outputBytes).metadata();
    const resampled = meta.width !== ref.width || meta.height !== ref.height;
    // A ±1 px rounding difference (or a wrong size) is compared after stretching to the
    // reference size; a wrong orientation then shows as a low score.
    if (resampled) img = img.resize(ref.width, ref.height, { fit: 'fill', kernel: 'lanczos3' });
    const { data } = await img.raw().toBuffer({ resolveWithObject: true });
    return {
      ssim: ssim(ref.luma, luma(data, ref.width, ref.height), ref.width, ref.height),
      psnr: psnr(ref.data, data),
      resampled,
    };
  }
}
