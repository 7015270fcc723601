// A small, strict JSON Schema (2020-12) checker for the keywords bootc's host-v1 schema uses: type,
// properties, required, additionalProperties, items, $ref (local #/$defs), anyOf, oneOf, const,
// enum, minimum. Annotations (description, default, format, title) are ignored, as the spec allows.
// An unknown keyword is an error, so a schema using more than this checks cannot pass by accident.
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema', 'title', 'description', 'default', 'format', '$defs',
  'type', 'properties', 'required', 'additionalProperties', 'items', '$ref', 'anyOf', 'oneOf', 'const', 'enum', 'minimum',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const typeMatches = (want: string, v: unknown): boolean => want === typeOf(v) || (want === 'number' && typeOf(v) === 'integer');

/** Validates `value` against `root`; returns the errors (`<path>: <problem>`), empty when valid. */
export function validateJsonSchema(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const check = (s: Schema, v: unknown, path: string): void => {
    for (const k of Object.keys(s)) if (!KNOWN.has(k)) errors.push(`${path}: schema keyword '${k}' not supported by this checker`);
    if (typeof s.$ref === 'string') {
      const m = /^#\/\$defs\/(.+)$/.exec(s.$ref);
      const def = m ? (root.$defs as Record<string, Schema> | undefined)?.[m[1]!] : undefined;
      if (!def) errors.push(`${path}: unresolvable $ref ${s.$ref}`);
      else check(def, v, path);
    }
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((t) => typeMatches(t, v))) {
        errors.push(`${path}: expected ${types.join(' or ')}, got ${typeOf(v)}`);
        return;
      }
    }
    if ('const' in s && JSON.stringify(s.const) !== JSON.stringify(v)) errors.push(`${path}: expected ${JSON.stringify(s.const)}`);
    if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) errors.push(`${path}: not one of ${JSON.stringify(s.enum)}`);
    if (typeof s.minimum === 'number' && typeof v === 'number' && v < s.minimum) errors.push(`${path}: below minimum ${s.minimum}`);
    const branches = (key: 'anyOf' | 'oneOf'): void => {
      const list = s[key] as Schema[] | undefined;
      if (!list) return;
      const results = list.map((b) => validateJsonSchema({ ...b, $defs: root.$defs }, v).map((e) => e.replace(/^\$/, path)));
      const ok = results.filter((r) => r.length === 0).length;
      // The branch errors are kept (the null branch's "expected null" aside) so a failure says why.
      const why = results.flat().filter((e) => !e.endsWith('expected null, got object'));
      if (key === 'anyOf' ? ok === 0 : ok !== 1) errors.push(`${path}: matches ${ok} of the ${key} branches`, ...(ok === 0 ? why : []));
    };
    branches('anyOf');
    branches('oneOf');
    if (typeOf(v) === 'object') {
      const o = v as Record<string, unknown>;
      const props = (s.properties ?? {}) as Record<string, Schema>;
      for (const r of (s.required ?? []) as string[]) if (!(r in o)) errors.push(`${path}.${r}: required`);
      for (const [k, x] of Object.entries(o)) {
        if (props[k]) check(props[k], x, `${path}.${k}`);
        else if (s.additionalProperties === false) errors.push(`${path}.${k}: not allowed`);
        else if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) check(s.additionalProperties as Schema, x, `${path}.${k}`);
      }
    }
    if (Array.isArray(v) && s.items) v.forEach((x, i) => check(s.items as Schema, x, `${path}[${i}]`));
  };
  check(root, value, '$');
  return errors;
}
