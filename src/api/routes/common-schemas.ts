/**
 * Pieces the route schemas share: times, addresses, pages, numeric ids, and the step from
 * optional query fields to the store's filter objects. Validation happens here, at the edge.
 */

import { isIP } from 'node:net';
import { z } from 'zod';
import { MAX_PAGE_SIZE } from '../../store/page.js';

/** Epoch milliseconds as the API takes times (the store keeps flows in microseconds). */
export const timeMs = z.coerce.number().int().min(0).max(8.64e15);
export const address = z
  .string()
  .max(64)
  .refine((a) => isIP(a) !== 0, 'an IPv4 or IPv6 address');
export const protocol = z.string().regex(/^[a-z0-9-]{1,16}$/, 'a protocol name such as tcp, udp, icmp');
/** A sensor's name, an exporter's (`exporter:<address>`), or `local` for this host's own. */
export const sensorName = z
  .string()
  .regex(
    /^([A-Za-z0-9_-]{1,64}|exporter:[0-9A-Fa-f:.]{2,45})$/,
    'a sensor name (letters, digits, - and _), exporter:ADDRESS, or local for this host',
  );
export const pageSchema = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  cursor: z.string().max(512).optional(),
};

/** `:id` of a row with a numeric id. */
export const idParams = z
  .object({
    id: z.coerce
      .number()
      .int()
      .min(1)
      .max(2 ** 31),
  })
  .strict();

/** `:id` of an alert (the tracker's ids: type, run and number). */
export const alertIdParams = z
  .object({ id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'an alert id') })
  .strict();

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
