import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes an 8-bit PNG of `width x height` pixels with `channels` values each (1: grey, 3: RGB),
 * given as floats in [0, 1] (clamped), row-major.
 */
export function encodePng(pixels: ArrayLike<number>, width: number, height: number, channels: 1 | 3 = 1): Buffer {
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter: none
    for (let x = 0; x < stride; x++) {
      const v = pixels[y * stride + x];
      raw[y * (stride + 1) + 1 + x] = Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** A `data:image/png;base64,...` URI of an image sample (shape `[h, w]`, `[h, w, 1]` or `[h, w, 3]`); null for non-images. */
export function imageDataUri(features: Float32Array, shape: number[]): string | null {
  const png = imagePng(features, shape);
  return png ? `data:image/png;base64,${png.toString('base64')}` : null;
}

/** PNG bytes of an image sample, or null when `shape` is not an image shape. */
export function imagePng(features: Float32Array, shape: number[]): Buffer | null {
  if (shape.length < 2 || shape.length > 3) return null;
  const [h, w, c = 1] = shape;
  if (c !== 1 && c !== 3) return null;
  return encodePng(features, w, h, c);
}
