// The dbus-next boundary of alt-ostreed: tagged dict values -> Variants, incoming a{sv} -> Options.
import dbus from 'dbus-next';
import type { Options, TypedValue } from './requests.js';
import type { DeploymentDict, DictValue } from './state.js';

function toVariant(v: DictValue): dbus.Variant {
  if (v.type === 'a{sv}') return new dbus.Variant('a{sv}', toVariantDict(v.value));
  return new dbus.Variant(v.type, v.type === 'as' ? [...v.value] : v.value);
}

/** Converts a tagged dict into the `a{sv}` value dbus-next marshals. */
export function toVariantDict(dict: DeploymentDict): Record<string, dbus.Variant> {
  const out: Record<string, dbus.Variant> = {};
  for (const [k, v] of Object.entries(dict)) out[k] = toVariant(v);
  return out;
}

/** Reads an incoming `a{sv}` argument, keeping each value's signature; anything else is empty. */
export function optionsFromArg(arg: unknown): Options {
  const out: Record<string, TypedValue> = {};
  if (typeof arg !== 'object' || arg === null) return out;
  for (const [k, v] of Object.entries(arg as Record<string, unknown>)) {
    if (v instanceof dbus.Variant) out[k] = { signature: v.signature, value: v.value as unknown };
  }
  return out;
}

/** A stable text key of call arguments, for rpm-ostree's "identical request joins" rule. */
export function argsKey(args: readonly unknown[]): string {
  return JSON.stringify(args, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof dbus.Variant) return { sig: v.signature, val: v.value as unknown };
    if (v instanceof Buffer) return v.toString('hex');
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
    }
    return v;
  });
}
