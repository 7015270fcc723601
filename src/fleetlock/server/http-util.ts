// Small node:http helpers shared by the protocol, admin and metrics routes.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeUtf8 } from '../../common/utf8.js';
import { ERROR_KINDS, type ErrorKind } from './kinds.js';

/** Largest accepted request body, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Thrown by {@link readBody} when the body exceeds {@link MAX_BODY_BYTES}. */
export class BodyTooLarge extends Error {}

/** Thrown by {@link readBody} when the body is not valid UTF-8 (never decoded to U+FFFD). */
export class BodyNotUtf8 extends Error {}

/**
 * Reads the whole request body as strict UTF-8, rejecting with {@link BodyTooLarge} past the limit
 * and with {@link BodyNotUtf8} for invalid bytes.
 */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const r = decodeUtf8(Buffer.concat(chunks));
      if (r.ok) resolve(r.text);
      else reject(new BodyNotUtf8());
    });
    req.on('error', reject);
  });
}

/** Sends a JSON reply. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Sends a protocol error `{kind, value}` with the kind's status. */
export function sendError(res: ServerResponse, kind: ErrorKind, value: string, headers: Record<string, string> = {}): void {
  sendJson(res, ERROR_KINDS[kind], { kind, value }, headers);
}

/** Sends a plain-text reply. */
export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time string comparison (compares digests so lengths do not leak either). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * The credential a request carries: the bearer token, or the password of HTTP Basic auth (so a
 * Zincati node, which cannot add headers, can put it in its base URL as `https://node:TOKEN@host/`).
 */
export function presentedToken(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return null;
  const m = /^(\S+)\s+(\S+)\s*$/.exec(h);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'bearer') return m[2]!;
  if (scheme === 'basic') {
    const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

/** True when the request carries `token`. */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const got = presentedToken(req);
  return got !== null && sameSecret(got, token);
}
