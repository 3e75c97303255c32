import { parseArgs } from "node:util";
import { DmaError } from "./dma-error.js";

/** A setting's two spellings: a command-line flag (without `--`) and an environment variable. */
export interface SettingName {
  flag: string;
  env: string;
}

/** camelCase keys as `--kebab-case` flags and `DMABROKER_SNAKE_CASE` variables (`envPrefix` replaces `DMABROKER_`). */
export function settingNames<K extends string>(keys: readonly K[], envPrefix = "DMABROKER_"): Record<K, SettingName> {
  const names = {} as Record<K, SettingName>;
  for (const key of keys) {
    names[key] = { flag: key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), env: `${envPrefix}${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}` };
  }
  return names;
}

/**
 * The one settings reader of dmabroker's processes (broker, provider agent,
 * workload): flags over environment variables over defaults, and every bad
 * value a DmaError INVALID_ARGUMENT that names both spellings of the setting.
 */
export class Settings<K extends string> {
  private constructor(
    private readonly names: Record<K, SettingName>,
    private readonly values: Readonly<Record<string, string | undefined>>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Parses `argv` against the settings' flags (an unknown flag is INVALID_ARGUMENT). */
  static read<K extends string>(names: Record<K, SettingName>, argv: readonly string[], env: NodeJS.ProcessEnv): Settings<K> {
    const options = Object.fromEntries(Object.values<SettingName>(names).map((n) => [n.flag, { type: "string" as const }]));
    let values: Record<string, string | undefined>;
    try {
      values = parseArgs({ args: [...argv], options, allowPositionals: false }).values;
    } catch (err) {
      throw new DmaError("INVALID_ARGUMENT", (err as Error).message);
    }
    return new Settings(names, values, env);
  }

  /** Every setting's environment variable. */
  static envVars(names: Record<string, SettingName>): string[] {
    return Object.values(names).map((n) => n.env);
  }

  /** The flag's value, else the variable's, else undefined. */
  raw(key: K): string | undefined {
    const n = this.names[key];
    return this.values[n.flag] ?? this.env[n.env];
  }

  /** `--flag / ENV`, for messages. */
  label(key: K): string {
    const n = this.names[key];
    return `--${n.flag} / ${n.env}`;
  }

  /** A number in [min, max] (an integer unless `integer: false`); `fallback` when unset or empty. */
  number(key: K, fallback: number, range: { min: number; max?: number; integer?: boolean }): number {
    const text = this.raw(key);
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    const { min, max = Number.MAX_SAFE_INTEGER, integer = true } = range;
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      const bounds = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
      throw new DmaError("INVALID_ARGUMENT", `${this.label(key)} must be ${integer ? "an integer" : "a number"} ${bounds}, got ${JSON.stringify(text)}`);
    }
    return n;
  }

  /** One of `choices`; `fallback` when unset or empty. */
  oneOf<T extends string>(key: K, fallback: T, choices: readonly T[]): T {
    const text = this.raw(key);
    if (text === undefined || text === "") return fallback;
    if (!(choices as readonly string[]).includes(text)) {
      throw new DmaError("INVALID_ARGUMENT", `${this.label(key)} must be one of ${choices.join(", ")}, got ${JSON.stringify(text)}`);
    }
    return text as T;
  }
}
