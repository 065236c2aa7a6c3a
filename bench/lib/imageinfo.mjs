// Tiny header readers: enough to check an output's dimensions and to know an input's
// upright size, without decoding and without depending on any peer library (the smoke
// test runs with no peers installed).

const u16be = (b, o) => (b[o] << 8) | b[o + 1];
const u16le = (b, o) => b[o] | (b[o + 1] << 8);
const u24le = (b, o) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const u32be = (b, o) => ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
const ascii = (b, o, n) => String.fromCharCode(...b.subarray(o, o + n));

/** Sniff the container: 'jpeg' | 'png' | 'webp' | 'avif' | null. */
export function sniffFormat(bytes) {
  const b = bytes;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return 'png';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') {
    const brands = ascii(b, 8, Math.min(u32be(b, 0), b.length) - 8);
    if (/avif|avis/.test(brands)) return 'avif';
  }
  return null;
}

/**
 * Stored width/height of an image (before EXIF orientation) and, for JPEG, the EXIF
 * orientation (1 when absent). Returns null when the header cannot be read.
 */
export function readImageInfo(bytes) {
  const format = sniffFormat(bytes);
  let dims = null;
  let orientation = 1;
  if (format === 'jpeg') {
    dims = readJpeg(bytes);
    if (dims) orientation = dims.orientation;
  } else if (format === 'png') {
    dims = { width: u32be(bytes, 16), height: u32be(bytes, 20) };
  } else if (format === 'webp') {
    dims = readWebp(bytes);
  } else if (format === 'avif') {
    dims = readAvif(bytes);
  }
  if (!dims) return null;
  const swap = orientation >= 5 && orientation <= 8;
  return {
    format,
    width: dims.width,
    height: dims.height,
    orientation,
    uprightWidth: swap ? dims.height : dims.width,
    uprightHeight: swap ? dims.width : dims.height,
  };
}

function readJpeg(b) {
  let o = 2;
  let orientation = 1;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) return null;
    const marker = b[o + 1];
    if (marker === 0xff) {
      o += 1; // fill byte
      continue;
    }
    const len = u16be(b, o + 2);
    // SOF0-SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { height: u16be(b, o + 5), width: u16be(b, o + 7), orientation };
    }
    if (marker === 0xe1 && ascii(b, o + 4, 6) === 'Exif\0\0') {
      orientation = exifOrientation(b.subarray(o + 10, o + 2 + len)) ?? orientation;
    }
    o += 2 + len;
  }
  return null;
}

function exifOrientation(t) {
  if (t.length < 8) return null;
  const le = t[0] === 0x49; // "II"
  const r16 = (o) => (le ? u16le(t, o) : u16be(t, o));
  const r32 = (o) => (le ? (u16le(t, o) | (u16le(t, o + 2) << 16)) >>> 0 : u32be(t, o));
  const ifd = r32(4);
  if (ifd + 2 > t.length) return null;
  const count = r16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > t.length) break;
    if (r16(e) === 0x0112) {
      const v = r16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return null;
}

function readWebp(b) {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ') {
    // Frame tag (3 bytes), start code (3 bytes), then 14-bit width/height.
    return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (chunk === 'VP8L') {
    const bits = (b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24)) >>> 0;
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X') {
    return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  }
  return null;
}

// ISOBMFF: find the first `ispe` (image spatial extent) property box. Our outputs and
// the peers' are single still images, so the first ispe is the primary item's.
function readAvif(b) {
  const containers = new Set(['meta', 'iprp', 'ipco']);
  const walk = (start, end) => {
    let o = start;
    while (o + 8 <= end) {
      let size = u32be(b, o);
      const type = ascii(b, o + 4, 4);
      if (size === 0) size = end - o;
      if (size < 8 || o + size > end) return null;
      if (type === 'ispe') return { width: u32be(b, o + 12), height: u32be(b, o + 16) };
      if (containers.has(type)) {
        // `meta` is a full box: 4 bytes of version/flags before its children.
        const found = walk(o + 8 + (type === 'meta' ? 4 : 0), o + size);
        if (found) return found;
      }
      o += size;
    }
    return null;
  };
  return walk(0, b.length);
}

/**
 * The output size a task must produce for an upright input (sharp's rounding): `cover`
 * gives exactly the box; `inside` scales the longer side to the box, never enlarging.
 */
export function expectedDims(spec, uprightWidth, uprightHeight) {
  if (spec.fit === 'cover') return { width: spec.width, height: spec.height };
  const scale = Math.min(spec.width / uprightWidth, spec.height / uprightHeight, 1);
  return {
    width: Math.max(1, Math.round(uprightWidth * scale)),
    height: Math.max(1, Math.round(uprightHeight * scale)),
  };
}
