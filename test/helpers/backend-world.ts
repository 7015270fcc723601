// Test fixture: what every alt-ostreed integration suite stands on -- the repo served on 127.0.0.1,
// a fake-booted sysroot booted on one of its commits, and a private bus. The daemon itself is
// started by each suite (its options differ), and stopped by it before `close()`.
import { startPrivateBus, type PrivateBus } from './dbus-daemon.js';
import { serveDir, type FixtureRepo, type StaticServer } from './ostree-repo.js';
import { createSysroot, type TestSysroot } from './sysroot.js';

/** The ref every backend suite boots from. */
export const BACKEND_REF = 'altcos/x86_64/sisyphus';

/** A served repo, a sysroot booted on one commit, and a private bus. */
export interface BackendWorld {
  readonly server: StaticServer;
  readonly sysroot: TestSysroot;
  readonly bus: PrivateBus;
  /** Stops the bus and the HTTP server and removes the sysroot. */
  close(): Promise<void>;
}

/** Serves `repo`, boots a sysroot on `bootChecksum` of `BACKEND_REF`, starts a private bus. */
export async function startBackendWorld(repo: FixtureRepo, bootChecksum: string): Promise<BackendWorld> {
  const server = await serveDir(repo.path);
  const sysroot = await createSysroot({ repoUrl: server.url, ref: BACKEND_REF, commit: bootChecksum });
  const bus = await startPrivateBus();
  return {
    server,
    sysroot,
    bus,
    async close() {
      await bus.stop();
      await server.close();
      await sysroot.destroy();
    },
  };
}
