// Best-effort key -> line index for a TOML document. smol-toml returns plain values without
// positions, but warnings and errors must name the line (issue #2), so we scan the text once.
// Multi-line strings may yield spurious entries; the index is only used to annotate messages.

/** Dotted key path (array-of-tables entries as `name[i]`) to the 1-based line that first sets it. */
export type KeyLines = ReadonlyMap<string, number>;

// Splits `a."b.c".d` into ['a', 'b.c', 'd'].
function splitKey(raw: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (const ch of raw) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '.') {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  parts.push(cur.trim());
  return parts;
}

// Removes a trailing comment that is outside quotes.
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#') return line.slice(0, i);
  }
  return line;
}

/** Indexes the first line on which each key path (and each of its prefixes) appears. */
export function indexKeyLines(text: string): KeyLines {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let prefix = '';
  const note = (path: string[], lineNo: number, base = ''): void => {
    let acc = base;
    for (const p of path) {
      acc = acc ? `${acc}.${p}` : p;
      if (!lines.has(acc)) lines.set(acc, lineNo);
    }
  };
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const lineNo = i + 1;
    const line = stripComment(rawLine).trim();
    if (line.startsWith('[[')) {
      const path = splitKey(line.replace(/^\[\[/, '').replace(/\]\]\s*$/, ''));
      const base = path.join('.');
      const idx = arrayCounts.get(base) ?? 0;
      arrayCounts.set(base, idx + 1);
      note(path, lineNo);
      prefix = `${base}[${String(idx)}]`;
      if (!lines.has(prefix)) lines.set(prefix, lineNo);
    } else if (line.startsWith('[')) {
      const path = splitKey(line.replace(/^\[/, '').replace(/\]\s*$/, ''));
      note(path, lineNo);
      prefix = path.join('.');
    } else {
      const m = /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/.exec(line);
      if (m?.[1] !== undefined) note(splitKey(m[1]), lineNo, prefix);
    }
  });
  return lines;
}

/** Line of `key`, or of its closest indexed parent, or null. */
export function lineOf(index: KeyLines, key: string): number | null {
  let k = key;
  for (;;) {
    const hit = index.get(k);
    if (hit !== undefined) return hit;
    const cut = Math.max(k.lastIndexOf('.'), k.lastIndexOf('['));
    if (cut <= 0) return null;
    k = k.slice(0, cut);
  }
}
