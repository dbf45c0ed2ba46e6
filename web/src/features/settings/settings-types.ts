/** GET /api/settings/detection, as src/api/routes/settings-routes.ts sends it. */

export interface DetectorOption {
  name: string;
  value: number;
  default: number;
  help: string;
  key: string;
  env: string;
}

export interface DetectorSetting {
  name: string;
  description: string;
  options: DetectorOption[];
}

export interface DetectionSettings {
  detectors: DetectorSetting[];
}
