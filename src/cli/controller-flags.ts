import { helpLine, SETTINGS, settingsOf, type ConfigInput, type ControllerCommand } from '../config-schema.js';

/** The flags of `meridian start|demo`, one per setting the command takes, for parseFlags. */
export function controllerFlagOptions(command: ControllerCommand): Record<string, { type: 'string' }> {
  return Object.fromEntries(settingsOf(command).map((k) => [SETTINGS[k].flag, { type: 'string' as const }]));
}

/** The settings given as flags, by setting key. */
export function configFromFlags(command: ControllerCommand, values: Readonly<Record<string, unknown>>): ConfigInput {
  const out: ConfigInput = {};
  for (const k of settingsOf(command)) {
    const v = values[SETTINGS[k].flag];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** The help lines of a command's settings: flag, variable, default. */
export function controllerHelp(command: ControllerCommand): string {
  return settingsOf(command).map(helpLine).join('\n');
}
