// Public API of the config capability (re-exports only).
export { loadSettings, settingsFromFragments, type LoadOptions, type LoadedSettings } from './load.js';
export { ConfigError, CONFIG_ERROR_CODES, CONFIG_WARNING_CODES, type ConfigWarning, type ConfigErrorCode, type ConfigWarningCode } from './errors.js';
export { CONFIG_DIRS } from './fragments.js';
export { DEFAULT_SETTINGS } from './settings.js';
export { expandUrlTemplate, type TemplateVars } from './template.js';
export { settingsToJson, type SettingsJson } from './json.js';
export { formatStartTime, parseWeekday } from './windows.js';
export type { Settings, StrategyLabel, Weekday, WindowSettings } from './types.js';
export { WEEKDAYS } from './types.js';
