import { readFileSync } from 'node:fs';
import { DataError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';

/** A numeric array read from a `.npy` file, as float32, with its shape. */
export interface NpyArray {
  data: Float32Array;
  shape: number[];
  /** The file's dtype code, e.g. `f4`, `u1`. */
  dtype: string;
}

const DTYPES: Record<string, { size: number; read: (v: DataView, o: number, le: boolean) => number }> = {
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  u1: { size: 1, read: (v, o) => v.getUint8(o) },
  i1: { size: 1, read: (v, o) => v.getInt8(o) },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le) },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le) },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le) },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le) },
  i8: { size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
};

/**
 * Parses NumPy's `.npy` format (versions 1-3, C order; float16 is not supported) into float32.
 * Errors name `name` (usually the file) and what was wrong.
 */
export function parseNpy(bytes: Uint8Array, name = 'npy data'): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new DataError(`${name}: not a .npy file (bad magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = new TextDecoder('latin1').decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr'\s*:\s*'([<>|=]?)([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) throw new DataError(`${name}: cannot read the .npy header '${header.trim()}'`);
  if (fortran[1] === 'True') throw new DataError(`${name}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray`);
  const dtype = DTYPES[descr[2]];
  if (!dtype) throw new DataError(`${name}: dtype '${descr[2]}' is not supported (use float32, float64 or an integer type)`);
  const little = descr[1] !== '>';
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start < count * dtype.size) {
    throw new DataError(`${name}: truncated: shape [${shape}] needs ${count * dtype.size} data bytes, found ${bytes.length - start}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = dtype.read(view, start + i * dtype.size, little);
  return { data, shape, dtype: descr[2] };
}

/** Reads a `.npy` file as float32. */
export function readNpy(path: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** Encodes a float32 array of the given shape as `.npy` (version 1.0, little-endian, C order). */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i], true);
  return out;
}

/** Writes a float32 `.npy` file atomically. */
export function writeNpy(path: string, data: Float32Array, shape: number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}
