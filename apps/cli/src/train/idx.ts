import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';

/**
 * The IDX format of the MNIST family (LeCun et al.): a 4-byte magic 0x00 0x00 <type> <rank>, then `rank`
 * big-endian 32-bit dimensions, then the values. Fashion-MNIST uses type 0x08 (unsigned bytes): images are
 * [n, 28, 28], labels [n]. Files may be gzipped, as Debian's `dataset-fashion-mnist` installs them.
 *
 * @packageDocumentation
 */

/** A parsed IDX file of unsigned bytes. */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Parses IDX bytes (already gunzipped); `file` names the source in errors. Truncated or malformed input is an error. */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new InputError(`${file}: not an IDX file (${bytes.length} bytes, no header)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new InputError(`${file}: not an IDX file (magic ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
  if (bytes[2] !== 0x08) throw new InputError(`${file}: IDX type 0x${bytes[2]!.toString(16)} is not unsigned bytes (0x08)`);
  const rank = bytes[3] as number;
  if (rank < 1 || rank > 4) throw new InputError(`${file}: IDX rank ${rank} is not 1 to 4`);
  if (bytes.length < 4 + 4 * rank) throw new InputError(`${file}: truncated IDX header (${bytes.length} bytes for rank ${rank})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, k) => view.getUint32(4 + 4 * k, false));
  const size = dims.reduce((p, d) => p * d, 1);
  const start = 4 + 4 * rank;
  const have = bytes.length - start;
  if (have !== size) throw new InputError(`${file}: ${have < size ? 'truncated' : 'too long'}: the header says [${dims.join(', ')}] = ${size} values, the file has ${have}`);
  return { dims, data: bytes.subarray(start) };
}

/** Reads and parses an IDX file, gunzipping it when it starts with gzip's magic. */
export function readIdx(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let bytes = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (err) {
      throw new InputError(`${path}: broken gzip data: ${(err as Error).message}`);
    }
  }
  return parseIdx(bytes, path);
}
