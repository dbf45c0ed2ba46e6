/**
 * The hub's sensors and exporters, and the flows they send: a sensor's batch of flows is stored
 * with its message id in one transaction, so a batch delivered twice is stored once (the bus
 * redelivers what the hub had not acknowledged when it stopped), and every source's last contact
 * is kept for the dashboard.
 */

import type { Kysely } from 'kysely';
import { FlowRepository, LOCAL_SENSOR, type FlowRow } from './flow-repository.js';
import type { Database, SensorsTable } from './schema.js';
import type { DialectName } from './store-dialect.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

/** A sensor's name: what it is called at the hub, in subjects and in the flow list's filter. */
export const SENSOR_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A source of flows as the API shows it. */
export interface SensorRecord {
  name: string;
  kind: SensorsTable['kind'];
  firstSeenMs: number;
  lastContactMs: number;
  /** The sensor's latest health report (capture, buffer), or an exporter's counts. */
  health: unknown;
}

/** Throws BAD_REQUEST unless `name` can name a sensor (`exporter:<address>` names an exporter). */
export function checkSensorName(name: string): string {
  if (!SENSOR_NAME.test(name) || name === LOCAL_SENSOR) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `"${name.slice(0, 80)}" cannot name a sensor: use 1 to 64 letters, digits, - and _, and not "${LOCAL_SENSOR}"`,
    );
  }
  return name;
}

export class SensorRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /**
   * Stores a sensor's batch of flows unless message `id` was stored before; true when stored.
   * The id, the flows with their rollups and the sensor's last contact commit together.
   */
  async storeBatch(id: string, sensor: string, flows: readonly FlowRow[], atMs: number): Promise<boolean> {
    return (await this.storeBatches([{ id, sensor, flows }], atMs)).has(id);
  }

  /**
   * Stores several batches (of any sensors) in one transaction, each unless its message id was
   * stored before: the ids, the new batches' flows with their rollups and their sensors' last
   * contact commit together. Resolves to the ids stored now; the others had been stored before.
   */
  async storeBatches(
    batches: readonly { id: string; sensor: string; flows: readonly FlowRow[] }[],
    atMs: number,
  ): Promise<Set<string>> {
    const unique = [...new Map(batches.map((b) => [b.id, b])).values()];
    if (unique.length === 0) return new Set();
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('bus_messages')
        .values(unique.map((b) => ({ id: b.id, received_ms: atMs })))
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute();
      const fresh = new Set(inserted.map((row) => row.id));
      const stored = unique.filter((b) => fresh.has(b.id));
      await new FlowRepository(trx, this.dialect).insertFlows(
        stored.flatMap((b) => b.flows.map((f) => ({ ...f, sensor: b.sensor }))),
      );
      for (const sensor of new Set(stored.map((b) => b.sensor))) {
        await contact(trx, sensor, 'sensor', atMs, undefined);
      }
      return fresh;
    });
  }

  /** Notes that `name` was heard from at `atMs`, with its latest health when given. */
  async recordContact(
    name: string,
    kind: SensorsTable['kind'],
    atMs: number,
    health?: unknown,
  ): Promise<void> {
    await contact(this.db, name, kind, atMs, health);
  }

  /** Every sensor and exporter, the most recently heard from first. */
  async list(): Promise<SensorRecord[]> {
    const rows = await this.db.selectFrom('sensors').selectAll().orderBy('last_contact_ms', 'desc').execute();
    return rows.map((row) => ({
      name: row.name,
      kind: row.kind,
      firstSeenMs: row.first_seen_ms,
      lastContactMs: row.last_contact_ms,
      health: row.health === null ? null : (JSON.parse(row.health) as unknown),
    }));
  }

  /** Forgets the ids of messages received before `beforeMs` (the bus no longer redelivers them). */
  async pruneMessageIds(beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('bus_messages')
      .where('received_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

async function contact(
  db: Kysely<Database>,
  name: string,
  kind: SensorsTable['kind'],
  atMs: number,
  health: unknown,
): Promise<void> {
  const json = health === undefined ? null : JSON.stringify(health);
  await db
    .insertInto('sensors')
    .values({ name, kind, first_seen_ms: atMs, last_contact_ms: atMs, health: json })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet((eb) => ({
        kind: eb.ref('excluded.kind'),
        last_contact_ms: eb.ref('excluded.last_contact_ms'),
        // A batch of flows says the sensor is there; only a health report replaces its health.
        ...(json !== null && { health: eb.ref('excluded.health') }),
      })),
    )
    .execute();
}
