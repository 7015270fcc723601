import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

/**
 * The narrow logging port every component receives. Fields are structured; `msg` is one human line.
 * Lifecycle events carry a stable `event` field (see docs/usage/logging.md).
 */
export interface Logger {
  /** Debug-level record. */
  debug(fields: Record<string, unknown>, msg: string): void;
  /** Info-level record. */
  info(fields: Record<string, unknown>, msg: string): void;
  /** Warning record. */
  warn(fields: Record<string, unknown>, msg: string): void;
  /** Error record. */
  error(fields: Record<string, unknown>, msg: string): void;
  /** A logger that adds `bindings` to every record. */
  child(bindings: Record<string, unknown>): Logger;
}

/** Output shapes: `journal` prints `<N>message key=value` lines; `json` prints pino's NDJSON. */
export type LogFormat = 'journal' | 'json';

// sd-daemon(3) priorities, read by journald from a `<N>` line prefix.
const PRIORITY: Record<number, number> = { 10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2 };

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** Turns one pino NDJSON record into a journald line: `<prio>msg [k=v ...]`. */
export function journalLine(record: Record<string, unknown>): string {
  const { level, msg, time: _t, pid: _p, hostname: _h, ...rest } = record;
  const prio = PRIORITY[typeof level === 'number' ? level : 30] ?? 6;
  const extra = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  return `<${prio}>${String(msg ?? '')}${extra ? ` ${extra}` : ''}`;
}

function journalStream(out: NodeJS.WritableStream): DestinationStream {
  let pending = '';
  return {
    write(chunk: string): void {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          out.write(`${journalLine(JSON.parse(line) as Record<string, unknown>)}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
    },
  };
}

/**
 * Builds the process logger. No timestamps: journald adds them. Only composition roots call this.
 */
export function createLogger(opts: {
  name: string;
  level?: string;
  format?: LogFormat;
  destination?: NodeJS.WritableStream;
}): Logger {
  const out = opts.destination ?? process.stdout;
  const stream: DestinationStream =
    opts.format === 'json' ? { write: (s: string) => void out.write(s) } : journalStream(out);
  const base: PinoLogger = pino(
    { name: opts.name, level: opts.level ?? 'info', timestamp: false, base: null },
    stream,
  );
  return wrap(base);
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (f, m) => p.debug(f, m),
    info: (f, m) => p.info(f, m),
    warn: (f, m) => p.warn(f, m),
    error: (f, m) => p.error(f, m),
    child: (b) => wrap(p.child(b)),
  };
}

/** A logger that records structured entries in memory, for tests. */
export function memoryLogger(): Logger & { records: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const records: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const make = (bindings: Record<string, unknown>): Logger => ({
    debug: (f, m) => records.push({ level: 'debug', msg: m, fields: { ...bindings, ...f } }),
    info: (f, m) => records.push({ level: 'info', msg: m, fields: { ...bindings, ...f } }),
    warn: (f, m) => records.push({ level: 'warn', msg: m, fields: { ...bindings, ...f } }),
    error: (f, m) => records.push({ level: 'error', msg: m, fields: { ...bindings, ...f } }),
    child: (b) => make({ ...bindings, ...b }),
  });
  return Object.assign(make({}), { records });
}
