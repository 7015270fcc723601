// Locates the vendored rpm-ostree interface XML at run time. tsc does not copy .xml files into
// dist/, so from dist/src/ostree/*.js the file is found back in the source tree (the package ships
// src/ostree/rpmostree1.xml alongside dist/).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AltError } from '../common/errors.js';

/** Paths tried, in order: next to this module (tsx/vitest from src/) then the source tree (from dist/). */
export function rpmOstreeXmlCandidates(): string[] {
  return [
    fileURLToPath(new URL('./rpmostree1.xml', import.meta.url)),
    fileURLToPath(new URL('../../../src/ostree/rpmostree1.xml', import.meta.url)),
  ];
}

/** Reads `org.projectatomic.rpmostree1.xml` (byte-identical copy of rpm-ostree's interface file). */
export async function readRpmOstreeXml(): Promise<string> {
  let last: unknown;
  for (const path of rpmOstreeXmlCandidates()) {
    try {
      return await readFile(path, 'utf8');
    } catch (err: unknown) {
      last = err;
    }
  }
  throw new AltError('OSTREE_XML_MISSING', `cannot find rpmostree1.xml (tried ${rpmOstreeXmlCandidates().join(', ')})`, {
    cause: last,
  });
}
