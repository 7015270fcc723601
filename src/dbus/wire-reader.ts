// A bounded D-Bus wire reader for messages from untrusted peers (used by framing.ts). dbus-next's
// DBusBuffer trusts what it reads: an array of empty structs (signature `a()`, legal to its signature
// parser, illegal in the specification) consumes no bytes per element, so its `while (pos < end)` loop
// pushes elements until the process runs out of memory; a 4 GiB array length walks past the end of
// the buffer one `undefined` at a time; and a variant may carry any such signature from inside the
// body. This subclass checks every signature against the specification's grammar before it is used,
// bounds every array by the specification's limit and by the bytes actually present, and requires
// each array element to consume bytes, so a hostile message is refused with DBUS_BAD_MESSAGE in time
// linear in its length. Spec: https://dbus.freedesktop.org/doc/dbus-specification.html#message-protocol-signatures
import DBusBuffer from 'dbus-next/lib/dbus-buffer.js';
import { parseSignature } from 'dbus-next/lib/signature.js';
import { DBusAdapterError } from './errors.js';

/** The specification's maximum array length (64 MiB). */
export const SPEC_MAX_ARRAY_BYTES = 2 ** 26;
/** The specification's maximum signature length. */
const MAX_SIGNATURE_LENGTH = 255;
/** The specification's nesting limits: 32 arrays and 32 structs (dict entries count as structs). */
const MAX_ARRAY_DEPTH = 32;
const MAX_STRUCT_DEPTH = 32;
/** Variants nested in variants: the specification bounds a message's total nesting at 64. */
const MAX_VARIANT_DEPTH = 64;
const BASIC = new Set('ybnqiuxtdhsog');
const EIGHT_ALIGNED = new Set('xtd({');

/** A DBUS_BAD_MESSAGE error for a peer's malformed message. */
export function badMessage(what: string): DBusAdapterError {
  return new DBusAdapterError('DBUS_BAD_MESSAGE', `malformed D-Bus message from the peer: ${what}`);
}

/**
 * Checks `sig` against the specification's signature grammar: known type codes, non-empty structs,
 * dict entries only as array elements with a basic key and one value, at most 255 characters, at most
 * 32 nested arrays and 32 nested structs. With `single`, it must be exactly one complete type (as in a
 * variant). Throws DBUS_BAD_MESSAGE naming the problem.
 */
export function validateSignature(sig: string, single = false): void {
  if (sig.length > MAX_SIGNATURE_LENGTH) throw badMessage(`a signature of ${sig.length} characters (limit ${MAX_SIGNATURE_LENGTH})`);
  let i = 0;
  const fail = (what: string): never => {
    throw badMessage(`signature '${sig}': ${what} at character ${i}`);
  };
  const complete = (arrays: number, structs: number): void => {
    const c = sig[i];
    if (c === undefined) fail('unexpected end');
    i++;
    if (BASIC.has(c!) || c === 'v') return;
    if (c === 'a') {
      if (arrays + 1 > MAX_ARRAY_DEPTH) fail(`more than ${MAX_ARRAY_DEPTH} nested arrays`);
      if (sig[i] !== '{') return complete(arrays + 1, structs);
      i++;
      if (structs + 1 > MAX_STRUCT_DEPTH) fail(`more than ${MAX_STRUCT_DEPTH} nested structs`);
      if (!BASIC.has(sig[i] ?? '')) fail('a dict entry key that is not a basic type');
      i++;
      complete(arrays + 1, structs + 1);
      if (sig[i] !== '}') fail('a dict entry without exactly one key and one value');
      i++;
      return;
    }
    if (c === '(') {
      if (structs + 1 > MAX_STRUCT_DEPTH) fail(`more than ${MAX_STRUCT_DEPTH} nested structs`);
      if (sig[i] === ')') fail('an empty struct');
      while (sig[i] !== ')') complete(arrays, structs + 1);
      i++;
      return;
    }
    i--;
    fail(`'${c!}' cannot start a type here`);
  };
  if (single && sig.length === 0) fail('no type');
  while (i < sig.length) {
    complete(0, 0);
    if (single && i < sig.length) fail('more than one complete type');
  }
}

interface TypeTree {
  type: string;
  child: TypeTree[];
}

/** dbus-next's DBusBuffer with every signature validated and every array bounded (see file comment). */
export class BoundedWireReader extends DBusBuffer {
  private variantDepth = 0;

  /** Reads the values of a validated signature (the message body's). */
  override read(signature: string): unknown[] {
    validateSignature(signature);
    return super.read(signature);
  }

  /** Reads a variant after validating the one complete type it announces, and bounds nesting. */
  override readVariant(): [unknown, unknown[]] {
    if (this.variantDepth >= MAX_VARIANT_DEPTH) throw badMessage(`more than ${MAX_VARIANT_DEPTH} nested variants`);
    const signature = this.readSimpleType('g') as string;
    validateSignature(signature, true);
    const tree = parseSignature(signature);
    this.variantDepth++;
    try {
      return [tree, this.readStruct(tree)];
    } finally {
      this.variantDepth--;
    }
  }

  /** Reads one byte; past the end of the message is an error, not `undefined`. */
  override readInt8(): number {
    if (this.pos >= this.buffer.length) throw badMessage('a value past the end of the message');
    return super.readInt8();
  }

  /** Reads an array whose length is within the spec's limit and the bytes present, every element non-empty. */
  override readArray(eleType: unknown, arrayBlobSize: number): unknown[] {
    const ele = eleType as TypeTree;
    if (arrayBlobSize > SPEC_MAX_ARRAY_BYTES) throw badMessage(`an array of ${arrayBlobSize} bytes (limit ${SPEC_MAX_ARRAY_BYTES})`);
    if (EIGHT_ALIGNED.has(ele.type)) this.align(3);
    const end = this.pos + arrayBlobSize;
    if (end > this.buffer.length) throw badMessage(`an array of ${arrayBlobSize} bytes past the end of the message`);
    if (ele.type === 'y') {
      const bytes = this.buffer.subarray(this.pos, end);
      this.pos = end;
      return bytes as unknown as unknown[];
    }
    const result: unknown[] = [];
    while (this.pos < end) {
      const before = this.pos;
      result.push(this.readTree(ele));
      if (this.pos <= before) throw badMessage('an array element of no bytes');
    }
    if (this.pos !== end) throw badMessage('an array element overruns the array');
    return result;
  }
}
