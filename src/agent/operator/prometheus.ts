// A tiny Prometheus registry: counters and gauges with labels, rendered in the text exposition
// format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/). The agent exports a
// few dozen series; a client library would be more code than this file.

/** Label values of one series, keyed by label name. */
export type Labels = Readonly<Record<string, string>>;

/** `Content-Type` of the rendered text. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a HELP text: backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Formats a sample value the way Prometheus parses it (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

abstract class Family {
  readonly #series = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly type: 'counter' | 'gauge',
  ) {
    if (!NAME_RE.test(name)) throw new TypeError(`invalid metric name '${name}'`);
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith('__')) throw new TypeError(`invalid label name '${l}' on '${name}'`);
    }
  }

  protected series(labels: Labels): { labels: Labels; value: number } {
    const given = Object.keys(labels).sort();
    const want = [...this.labelNames].sort();
    if (given.length !== want.length || given.some((k, i) => k !== want[i])) {
      throw new TypeError(`metric '${this.name}' takes labels [${want.join(', ')}], got [${given.join(', ')}]`);
    }
    const key = JSON.stringify(this.labelNames.map((l) => labels[l]));
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: { ...labels }, value: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  /** Current value of one series (0 when never touched). */
  get(labels: Labels = {}): number {
    return this.series(labels).value;
  }

  /** Drops every series (for info gauges whose label values changed). */
  reset(): void {
    this.#series.clear();
  }

  /** Appends HELP, TYPE and one line per series. */
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const { labels, value } of this.#series.values()) {
      const ls = this.labelNames.map((l) => `${l}="${escapeLabelValue(labels[l] ?? '')}"`).join(',');
      out.push(`${this.name}${ls ? `{${ls}}` : ''} ${formatValue(value)}`);
    }
  }
}

/** A monotonically increasing count. */
export class Counter extends Family {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, 'counter');
    // Unlabelled counters start at 0 so alerts on rate() see the series from the first scrape.
    if (labelNames.length === 0) this.series({});
  }

  /** Adds `by` (>= 0) to the series with these labels. */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`counter '${this.name}' cannot decrease (inc by ${by})`);
    this.series(labels).value += by;
  }
}

/** A value that goes up and down. */
export class Gauge extends Family {
  constructor(name: string, help: string, labelNames: readonly string[], initial: number | null) {
    super(name, help, labelNames, 'gauge');
    if (labelNames.length === 0 && initial !== null) this.series({}).value = initial;
  }

  /** Sets the series with these labels. */
  set(value: number, labels: Labels = {}): void {
    this.series(labels).value = value;
  }
}

/** Holds metric families in registration order and renders them. */
export class Registry {
  readonly #families = new Map<string, Family>();

  /** Registers a counter; names must be unique. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Registers a gauge; `initial` null means no sample until the first `set`. */
  gauge(name: string, help: string, labelNames: readonly string[] = [], initial: number | null = 0): Gauge {
    return this.#add(new Gauge(name, help, labelNames, initial));
  }

  /** The whole registry in text exposition format 0.0.4, ending with a newline. */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) f.render(out);
    return `${out.join('\n')}\n`;
  }

  #add<F extends Family>(f: F): F {
    if (this.#families.has(f.name)) throw new TypeError(`metric '${f.name}' registered twice`);
    this.#families.set(f.name, f);
    return f;
  }
}
