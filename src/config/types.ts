// The validated, frozen configuration every component receives. Produced only by src/config
// (raw TOML fragments -> merged inputs -> these settings). camelCase with units in the names.

/** Update strategy labels, Zincati-compatible. */
export type StrategyLabel = 'immediate' | 'periodic' | 'fleet_lock';

/** Week days, normalised. */
export type Weekday = 'Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun';

/** All week days, Monday first (ISO order; minute-of-week 0 is Monday 00:00). */
export const WEEKDAYS: readonly Weekday[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** One `[[updates.periodic.window]]` entry. */
export interface WindowSettings {
  /** Distinct days this window starts on, in `WEEKDAYS` order. */
  readonly days: readonly Weekday[];
  /** Start as minutes after local midnight, 0..1439. */
  readonly startMinutes: number;
  /** Length in minutes, 1..10080. */
  readonly lengthMinutes: number;
}

/** Effective agent settings after merge and validation (deeply frozen). */
export interface Settings {
  /** `[agent]` section. */
  readonly agent: {
    readonly timing: {
      /** Pause between update checks in steady state, in seconds. @default 300 */
      readonly steadyIntervalSecs: number;
      /**
       * Pause between reboot attempts while an update is staged and the strategy (or a failed
       * finalization) holds it back, in seconds; Zincati's fixed 300 s. @default 300
       */
      readonly stagedIntervalSecs: number;
      /**
       * Pause between reboot attempts while interactive sessions or a block inhibitor hold a
       * staged update back, in seconds; the users' grace period is 10 of them. Zincati's fixed 60 s. @default 60
       */
      readonly postponementIntervalSecs: number;
    };
    readonly metrics: {
      /** Optional loopback TCP listener for Prometheus, `HOST:PORT`; null = socket only. @default null */
      readonly listen: string | null;
    };
  };
  /** `[cincinnati]` section. */
  readonly cincinnati: {
    /** Graph server base URL, templates not yet expanded; null when unset. @default null */
    readonly baseUrl: string | null;
    /** Extra CA bundle (PEM) trusted for the graph server besides the host's CA store. @default null */
    readonly caFile: string | null;
  };
  /** `[identity]` section (raw overrides; the resolved identity lives in src/identity). */
  readonly identity: {
    /** Reboot group, `^[a-zA-Z0-9.-]+$`. @default "default" */
    readonly group: string;
    /** 32 lowercase hex override; null = derived from /etc/machine-id. @default null */
    readonly nodeUuid: string | null;
    /** 0.0..1.0, or null to let the server decide. @default null */
    readonly rolloutWariness: number | null;
    /** Stream override; null = from the booted deployment or os-release. @default null */
    readonly stream: string | null;
  };
  /** `[updates]` section. */
  readonly updates: {
    /** @default true */
    readonly enabled: boolean;
    /** @default false */
    readonly allowDowngrade: boolean;
    /** @default "immediate" */
    readonly strategy: StrategyLabel;
    /** Consecutive stage failures before a release is abandoned. @default 12 */
    readonly maxStageAttempts: number;
    /** How long an abandoned release is skipped before it may be tried again, in seconds. @default 86400 */
    readonly abandonSecs: number;
    readonly fleetLock: {
      /** FleetLock server base URL, templates not yet expanded. @default null */
      readonly baseUrl: string | null;
      /** Optional bearer token sent as `authorization: Bearer <token>`. @default null */
      readonly token: string | null;
      /** Extra CA bundle (PEM) trusted for the FleetLock server besides the host's CA store. @default null */
      readonly caFile: string | null;
      /** Client certificate (PEM) presented to the FleetLock server; set with `clientKeyFile`. @default null */
      readonly clientCertFile: string | null;
      /** Private key (PEM, unencrypted) of `clientCertFile`. @default null */
      readonly clientKeyFile: string | null;
    };
    readonly periodic: {
      /** `UTC`, `localtime` or an IANA zone name. @default "UTC" */
      readonly timeZone: string;
      /** Accumulated windows from every fragment, in merge order. @default [] */
      readonly windows: readonly WindowSettings[];
    };
  };
  /** `[health]` section: boot health checks and automatic rollback (docs/usage/health-checks.md). */
  readonly health: {
    /** Arm a trial at finalize and judge the next boots (alt-updated-health.service). @default true */
    readonly enabled: boolean;
    /** systemd units that must be active for a boot to be healthy. @default [] */
    readonly requiredUnits: readonly string[];
    /** Deadline of each check and hook, in seconds; a check still running then is killed and fails. @default 60 */
    readonly checkTimeoutSecs: number;
    /** Boots of a new deployment allowed to be unhealthy before it is rolled back. @default 2 */
    readonly bootAttempts: number;
    /** Directory of the persistent health record (`health.json`), absolute. @default "/var/lib/alt-updated" */
    readonly stateDir: string;
  };
}
