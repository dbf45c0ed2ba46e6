/**
 * The "Sensor" select of the flow and alert lists: All, This host, then every sensor and exporter
 * GET /api/sensors names. Without that list (still loading, or a server without sensors) it still
 * offers All and This host, and keeps the value in force.
 */

import { SelectField } from '../../components/Field';
import { sensorFilterOptions, sensorOptionLabel } from './sensor-filter';
import { useSensors } from './use-sensors';

export function SensorFilterField({
  value,
  onChange,
  className,
}: {
  /** The chosen source; '' for all. */
  value: string;
  onChange: (value: string) => void;
  className?: string;
}) {
  const sensors = useSensors();
  const options = sensorFilterOptions(sensors.data?.sensors ?? [], value);
  return (
    <SelectField
      label="Sensor"
      value={value}
      options={options}
      optionLabel={sensorOptionLabel}
      onChange={onChange}
      {...(className !== undefined && { className })}
    />
  );
}
