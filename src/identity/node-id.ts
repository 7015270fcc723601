// systemd's app-specific machine ID (sd_id128_get_machine_app_specific), as Zincati derives its
// node UUID, so FleetLock servers that already know our nodes keep recognising them.
import { createHmac } from 'node:crypto';
import { IdentityError } from './errors.js';

/** A validated 128-bit id: 32 lowercase hex characters. */
export type NodeUuid = string & { readonly __brand: 'NodeUuid' };

/** Zincati's application ID; using it keeps node ids identical to Zincati's on the same machine. */
export const ZINCATI_APP_ID = 'de35106b6ec24688b63afddaa156679b';

/** Parses `/etc/machine-id` content (32 hex, surrounding whitespace allowed) to lowercase hex. */
export function parseMachineId(text: string, file = '/etc/machine-id'): string {
  const id = text.trim();
  if (!/^[0-9a-fA-F]{32}$/.test(id)) {
    const shown = id.length > 40 ? `${id.slice(0, 37)}...` : id;
    throw new IdentityError('IDENTITY_MACHINE_ID', `${file}: expected 32 hex characters, got ${JSON.stringify(shown)}`);
  }
  if (/^0+$/.test(id)) throw new IdentityError('IDENTITY_MACHINE_ID', `${file}: machine id is all zeros`);
  return id.toLowerCase();
}

/** Brands 32 hex characters as a NodeUuid (lowercased); throws `IDENTITY_INVALID` otherwise. */
export function asNodeUuid(hex: string): NodeUuid {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new IdentityError('IDENTITY_INVALID', `node uuid: expected 32 hex characters, got ${JSON.stringify(hex)}`);
  return hex.toLowerCase() as NodeUuid;
}

/**
 * HMAC-SHA256 keyed by the machine-id bytes over the app-id bytes, first 16 bytes, marked as a
 * UUID v4 (version nibble 4, RFC 4122 variant); equals `systemd-id128 machine-id -a <appId>`.
 */
export function appSpecificId(machineIdHex: string, appIdHex: string = ZINCATI_APP_ID): NodeUuid {
  const key = Buffer.from(asNodeUuid(machineIdHex), 'hex');
  const msg = Buffer.from(asNodeUuid(appIdHex), 'hex');
  const out = createHmac('sha256', key).update(msg).digest().subarray(0, 16);
  out[6] = ((out[6] ?? 0) & 0x0f) | 0x40;
  out[8] = ((out[8] ?? 0) & 0x3f) | 0x80;
  return out.toString('hex') as NodeUuid;
}
