// The request target of an incoming HTTP request as a URL. node:http hands handlers the raw target
// string, and its parser accepts targets that are not URLs (`//[`, `//%zz%`, an absolute-form target
// with a bad port); those are client mistakes, so the servers answer 400 instead of failing the request.

/** Placeholder origin for resolving origin-form targets (`/path?query`); never contacted. */
const BASE = 'http://request-target.invalid';

/** Parses `req.url` (origin-form or absolute-form); null when it is not a valid URL. */
export function parseRequestTarget(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', BASE);
  } catch {
    return null;
  }
}
