// The plain-ostree host driver: the HostDriver port over OstreeCli and operations.ts (the behaviour
// alt-ostreed always had), for ALTCOS-style hosts that follow an ostree ref.
import type { DriverWork, HostDriver, HostSnapshot } from './driver.js';
import { runWork } from './operations.js';
import type { OstreeCli, SysrootSnapshot } from './ostree-cli.js';
import type { WorkRequest } from './requests.js';
import { buildState } from './state.js';

/** Creates the ostree driver; `remote` is the configured remote (null = the origin's). */
export function ostreeDriver(cli: OstreeCli, remote: string | null): HostDriver {
  // The sysroot read behind each snapshot this driver handed out (the work needs its entries).
  const reads = new WeakMap<HostSnapshot, SysrootSnapshot>();
  const wrap = (snap: SysrootSnapshot): HostSnapshot => {
    const out: HostSnapshot = { state: buildState(snap), raw: snap.raw };
    reads.set(out, snap);
    return out;
  };
  return {
    kind: 'ostree',
    status: async () => wrap(await cli.status()),
    async run(work: DriverWork, req: WorkRequest) {
      const snapshot = reads.get(work.snapshot) ?? (await cli.status());
      const after = await runWork({ cli, osname: work.osname, remote, progress: work.progress, signal: work.signal, reboot: work.reboot, snapshot }, req);
      return after === null ? null : wrap(after);
    },
    describe: async () => ({ driver: 'ostree', ...(await cli.capabilities()) }),
  };
}
