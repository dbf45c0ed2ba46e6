/** Where a flow or alert came from, in the lists' Sensor column: its sensor's name, or "this host". */

import './sensors.css';
import { sourceText } from './sensor-format';

export function SensorSource({ sensor }: { sensor: string | null | undefined }) {
  const text = sourceText(sensor);
  return sensor === null || sensor === undefined || sensor === '' ? (
    <span className="sensor-local" title="This server's own capture">
      {text}
    </span>
  ) : (
    <span className="mono">{text}</span>
  );
}
