/** The range the health charts cover: a radio group (arrow keys move between the choices), kept in the URL. */

import { HEALTH_RANGES, type HealthRangeKey } from './health-range';

export function HealthRangePicker({
  value,
  onChange,
}: {
  value: HealthRangeKey;
  onChange: (key: HealthRangeKey) => void;
}) {
  return (
    <div className="segmented" role="radiogroup" aria-label="Chart range">
      {HEALTH_RANGES.map((range) => (
        <label key={range.key} className={value === range.key ? 'selected' : undefined}>
          <input
            type="radio"
            name="health-range"
            value={range.key}
            checked={value === range.key}
            onChange={() => {
              onChange(range.key);
            }}
          />
          {range.label}
        </label>
      ))}
    </div>
  );
}
