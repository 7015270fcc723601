import { AltError } from '../common/errors.js';

/** Stable codes of alt-graphd errors. */
export type GraphServerErrorCode = 'GRAPHD_CONFIG' | 'GRAPHD_POLICY' | 'GRAPHD_REPO' | 'GRAPHD_REGISTRY';

/** A graph-server failure: bad configuration, bad policy file, or an ostree repo that cannot be read. */
export class GraphServerError extends AltError {
  constructor(code: GraphServerErrorCode, message: string, cause?: unknown) {
    super(code, message, cause === undefined ? {} : { cause });
  }
}
