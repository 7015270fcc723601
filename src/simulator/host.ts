// SimulatedHost: the only simulated part of a simulated node, the OS below the agent's backend port.
// It keeps deployments in memory (booted, staged, rollback), stages instantly or after a virtual
// delay, turns a finalize into a reboot request the scheduler carries out, and decides each new
// boot's health verdict. Everything above the OstreePort (state machine, strategies, graph and
// FleetLock clients) is the agent's real code.
import type { FailedReleaseFact, HealthPort, OstreePort } from '../agent/ports.js';
import type { Release } from '../graph/release.js';
import type { Deployment, DeploymentSet } from '../ostree/deployment.js';

/** Virtual-time sleep the host uses for a staging delay (the scheduler's, so time can pass). */
export type SimSleep = (ms: number) => Promise<void>;

/** What a simulated reboot does next, decided when it is requested. */
export interface RebootPlan {
  /** The release the host comes up on. */
  readonly into: Release;
  /** True when the new release fails its health verdict: the host rolls back (a second reboot). */
  readonly fails: boolean;
}

const STREAM = 'sisyphus';

/** A simulated host: deployments in memory, a reboot request instead of a reboot. */
export class SimulatedHost {
  #booted: Deployment;
  #rollback: Deployment | null = null;
  #staged: Deployment | null = null;
  #serial = 0;
  readonly #failed: FailedReleaseFact[] = [];
  #reboot: RebootPlan | null = null;
  readonly #releases = new Map<string, Release>();

  constructor(
    booted: Release,
    private readonly opts: { readonly stageMs: number; readonly sleep: SimSleep; readonly failsHealth: (r: Release) => boolean; readonly basearch: string },
  ) {
    this.#releases.set(booted.payload, booted);
    this.#booted = this.#deployment(booted, { booted: true });
  }

  /** The booted release's version. */
  get bootedVersion(): string {
    return this.#booted.version ?? '';
  }

  /** True while a staged deployment waits to be finalized. */
  get hasStaged(): boolean {
    return this.#staged !== null;
  }

  /** Releases that failed their health verdict here (and were rolled back). */
  get failedReleases(): readonly FailedReleaseFact[] {
    return this.#failed;
  }

  /** The reboot the agent asked for (through finalize), or null; cleared by {@link takeReboot}. */
  get pendingReboot(): RebootPlan | null {
    return this.#reboot;
  }

  /** Hands the pending reboot to the scheduler. */
  takeReboot(): RebootPlan | null {
    const r = this.#reboot;
    this.#reboot = null;
    return r;
  }

  /** The host came up on `plan.into`: the old booted deployment becomes the rollback one. */
  bootInto(plan: RebootPlan): void {
    const old = this.#booted;
    this.#booted = this.#deployment(plan.into, { booted: true });
    this.#rollback = { ...old, booted: false };
    this.#staged = null;
  }

  /** The boot into `failed` failed its health verdict: back to the previous deployment, recorded. */
  rollBack(failed: Release, previous: Release): void {
    this.#failed.push({ release: failed.version, payload: failed.payload, reason: 'simulated health check failure', rolledBack: true });
    this.#booted = this.#deployment(previous, { booted: true });
    this.#rollback = this.#deployment(failed, {});
  }

  /** The agent's backend port over this host. */
  port(): OstreePort {
    return {
      status: () => Promise.resolve(this.#set()),
      registerDriver: () => Promise.resolve(),
      stage: async (release) => {
        if (this.opts.stageMs > 0) await this.opts.sleep(this.opts.stageMs);
        this.#releases.set(release.payload, release);
        this.#staged = this.#deployment(release, { staged: true, locked: true });
        return this.#staged;
      },
      finalize: (checksum) => {
        const staged = this.#staged;
        if (staged === null || staged.checksum !== checksum) return Promise.reject(new Error(`simulated host: nothing staged with checksum ${checksum.slice(0, 12)}`));
        const into = this.#releases.get(checksum);
        if (into === undefined) return Promise.reject(new Error('simulated host: staged release unknown'));
        this.#staged = { ...staged, finalizationLocked: false };
        this.#reboot = { into, fails: this.opts.failsHealth(into) };
        return Promise.resolve();
      },
      cleanupPending: () => {
        this.#staged = null;
        return Promise.resolve();
      },
    };
  }

  /** The health record as the agent reads it (what alt-updated-health would have written). */
  health(): HealthPort {
    return {
      facts: () =>
        Promise.resolve({
          failed: [...this.#failed],
          manual: null,
          lastVerdict: this.#failed.length > 0 ? 'rolled_back' : 'healthy',
          failedChecks: [],
        }),
      arm: () => Promise.resolve(),
    };
  }

  #set(): DeploymentSet {
    const deployments = [this.#staged, this.#booted, this.#rollback].filter((d): d is Deployment => d !== null);
    return { deployments, booted: this.#booted, staged: this.#staged, rollback: this.#rollback };
  }

  #deployment(r: Release, f: { booted?: boolean; staged?: boolean; locked?: boolean }): Deployment {
    const serial = this.#serial++;
    return {
      id: `altcos-${r.payload}.${serial}`,
      osname: 'altcos',
      checksum: r.payload,
      version: r.version,
      origin: `altcos:altcos/${this.opts.basearch}/${STREAM}`,
      stream: STREAM,
      timestampMs: 0,
      serial,
      booted: f.booted ?? false,
      staged: f.staged ?? false,
      finalizationLocked: f.locked ?? false,
      pinned: false,
    };
  }
}
