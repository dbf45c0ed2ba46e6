/** Drops the keys whose value is undefined (optional query fields), typed for exactOptionalPropertyTypes. */
export function defined<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** Epoch milliseconds to microseconds, keeping undefined. */
export function toMicros(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms * 1000;
}
