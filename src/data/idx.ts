/**
 * The IDX format (MNIST, Fashion-MNIST, EMNIST ...): a 4-byte magic number `0x00 0x00 <dtype> <rank>`,
 * `rank` big-endian uint32 dimensions, then the values in row-major order, big-endian. Files may be
 * gzipped (detected from the gzip magic bytes, whatever the file is called).
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../core/errors.js';

/** The element types IDX can hold, by their dtype byte. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array used for each {@link IdxDtype}. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX array: element type, dimensions and values in row-major order. */
export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: IdxData;
}

const DTYPE_BY_CODE: Record<number, IdxDtype> = {
  0x08: 'uint8',
  0x09: 'int8',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const BYTES: Record<IdxDtype, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

/** True when `bytes` starts with the gzip magic number (0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes an IDX byte buffer (gunzipping it first when it is gzipped).
 *
 * @param bytes the file's contents
 * @param name how errors refer to the data, usually its file path
 * @throws DataError when the magic number, dtype byte or dimensions are bad, or the data is truncated
 *   or has trailing bytes
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError(`${name}: gzip data is corrupt or truncated (${(err as Error).message})`);
    }
  }
  if (bytes.length < 4) {
    throw new DataError(`${name}: truncated IDX file: ${bytes.length} bytes, too short for the 4-byte magic number`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(
      `${name}: bad IDX magic number 0x${hex(bytes, 0, 4)}: the first two bytes must be 0x00 0x00 (is this an IDX file?)`,
    );
  }
  const dtype = DTYPE_BY_CODE[bytes[2]];
  if (dtype === undefined) {
    throw new DataError(
      `${name}: bad IDX magic number 0x${hex(bytes, 0, 4)}: unknown dtype byte 0x${hex(bytes, 2, 1)} ` +
        '(expected 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float or 0x0E double)',
    );
  }
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(
      `${name}: truncated IDX file: ${bytes.length} bytes, but the header of a rank-${rank} array needs ${headerBytes}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const width = BYTES[dtype];
  const expected = headerBytes + count * width;
  if (bytes.length < expected) {
    throw new DataError(
      `${name}: truncated IDX file: shape [${shape.join(', ')}] of ${dtype} needs ${expected} bytes, got ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new DataError(
      `${name}: IDX file has ${bytes.length - expected} unexpected trailing bytes after shape [${shape.join(', ')}] of ${dtype}`,
    );
  }
  return { dtype, shape, data: decodeValues(view, headerBytes, count, dtype) };
}

function decodeValues(view: DataView, offset: number, count: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/**
 * Reads and decodes an IDX file, raw or gzipped.
 *
 * @throws DataError naming `path` when the file is missing, unreadable or malformed
 */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new DataError(`${path}: cannot read IDX file (${why})`);
  }
  return parseIdx(bytes, path);
}

/**
 * Encodes an array as IDX bytes (uncompressed). `shape` must multiply out to `data.length`; the dtype
 * follows the typed array (Uint8Array -> ubyte, Int8Array -> byte, Int16Array -> short,
 * Int32Array -> int, Float32Array -> float, Float64Array -> double).
 */
export function encodeIdx(shape: number[], data: IdxData): Uint8Array {
  const dtype = dtypeOf(data);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new DataError(`encodeIdx: shape [${shape.join(', ')}] holds ${count} values but data has ${data.length}`);
  }
  if (shape.length > 255) throw new DataError(`encodeIdx: rank ${shape.length} exceeds IDX's limit of 255`);
  const header = 4 + 4 * shape.length;
  const width = BYTES[dtype];
  const out = new Uint8Array(header + count * width);
  const view = new DataView(out.buffer);
  const code = Number(Object.keys(DTYPE_BY_CODE).find((k) => DTYPE_BY_CODE[Number(k)] === dtype));
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const at = header + i * width;
    const v = data[i];
    if (dtype === 'uint8') view.setUint8(at, v);
    else if (dtype === 'int8') view.setInt8(at, v);
    else if (dtype === 'int16') view.setInt16(at, v, false);
    else if (dtype === 'int32') view.setInt32(at, v, false);
    else if (dtype === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}

function dtypeOf(data: IdxData): IdxDtype {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}

function hex(bytes: Uint8Array, start: number, n: number): string {
  return Array.from(bytes.subarray(start, start + n), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');
}
