// The `alt-updatectl config show --json` shape: TOML section and key names, days `Mon`..`Sun`,
// `start_time` as zero-padded `HH:MM`, plus the applied fragments in merge order.
import type { Settings } from './types.js';
import { formatStartTime } from './windows.js';

/** Shown instead of a configured FleetLock token, which is a secret. */
export const REDACTED = '<redacted>';

/** One window in TOML naming. */
export interface WindowJson {
  /** Days, `Mon`..`Sun`. */
  days: string[];
  /** Zero-padded `HH:MM`. */
  start_time: string;
  /** Minutes. */
  length_minutes: number;
}

/** Settings in TOML naming, as printed by `config show --json`. */
export interface SettingsJson {
  /** `[agent]`. */
  agent: { timing: { steady_interval_secs: number; staged_interval_secs: number; postponement_interval_secs: number }; metrics: { listen: string | null } };
  /** `[cincinnati]`. */
  cincinnati: { base_url: string | null; ca_file: string | null };
  /** `[identity]`. */
  identity: { group: string; node_uuid: string | null; rollout_wariness: number | null; stream: string | null };
  /** `[updates]`. */
  updates: {
    enabled: boolean;
    allow_downgrade: boolean;
    strategy: string;
    max_stage_attempts: number;
    abandon_secs: number;
    fleet_lock: {
      base_url: string | null;
      token: string | null;
      ca_file: string | null;
      client_cert_file: string | null;
      client_key_file: string | null;
    };
    periodic: { time_zone: string; window: WindowJson[] };
  };
  /** `[health]`. */
  health: { enabled: boolean; required_units: string[]; check_timeout_secs: number; boot_attempts: number; state_dir: string };
  /** Applied fragments in merge order. */
  fragments: string[];
}

/** Converts settings to the CLI JSON shape; the token is redacted. */
export function settingsToJson(settings: Settings, fragments: readonly string[]): SettingsJson {
  const { agent, cincinnati, identity, updates, health } = settings;
  return {
    agent: {
      timing: {
        steady_interval_secs: agent.timing.steadyIntervalSecs,
        staged_interval_secs: agent.timing.stagedIntervalSecs,
        postponement_interval_secs: agent.timing.postponementIntervalSecs,
      },
      metrics: { listen: agent.metrics.listen },
    },
    cincinnati: { base_url: cincinnati.baseUrl, ca_file: cincinnati.caFile },
    identity: {
      group: identity.group,
      node_uuid: identity.nodeUuid,
      rollout_wariness: identity.rolloutWariness,
      stream: identity.stream,
    },
    updates: {
      enabled: updates.enabled,
      allow_downgrade: updates.allowDowngrade,
      strategy: updates.strategy,
      max_stage_attempts: updates.maxStageAttempts,
      abandon_secs: updates.abandonSecs,
      fleet_lock: {
        base_url: updates.fleetLock.baseUrl,
        token: updates.fleetLock.token === null ? null : REDACTED,
        ca_file: updates.fleetLock.caFile,
        client_cert_file: updates.fleetLock.clientCertFile,
        client_key_file: updates.fleetLock.clientKeyFile,
      },
      periodic: {
        time_zone: updates.periodic.timeZone,
        window: updates.periodic.windows.map((w) => ({
          days: [...w.days],
          start_time: formatStartTime(w.startMinutes),
          length_minutes: w.lengthMinutes,
        })),
      },
    },
    health: {
      enabled: health.enabled,
      required_units: [...health.requiredUnits],
      check_timeout_secs: health.checkTimeoutSecs,
      boot_attempts: health.bootAttempts,
      state_dir: health.stateDir,
    },
    fragments: [...fragments],
  };
}
