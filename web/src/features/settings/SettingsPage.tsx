/**
 * Settings: the detection thresholds this server runs with, per detector, each with what it
 * means, its default and where to change it. Read-only here: detection runs with the options it
 * started with, so a change is made in the configuration file and takes a restart.
 */

import { useApiQuery } from '../../api/queries';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatCount } from '../../lib/format';
import type { DetectionSettings, DetectorSetting } from './settings-types';

export function SettingsPage() {
  const settings = useApiQuery<DetectionSettings>('/api/settings/detection');
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Settings</h1>
      </header>
      <Panel title="Detection thresholds">
        <p className="panel-note">
          The values each detector runs with now. To change one, set its key in the configuration file (
          <code>detection:</code>, as in <code>flowtrack serve -c flowtrack.yaml</code>) or its environment
          variable, and restart <code>flowtrack serve</code>. <code>flowtrack detectors</code> lists the same.
        </p>
        <QueryView
          query={settings}
          loadingLines={8}
          isEmpty={(data) => data.detectors.length === 0}
          empty={{ title: 'No detectors', hint: 'This server runs without attack detection.' }}
        >
          {(data) => (
            <div className="stack">
              {data.detectors.map((detector) => (
                <DetectorTable key={detector.name} detector={detector} />
              ))}
            </div>
          )}
        </QueryView>
      </Panel>
    </div>
  );
}

function DetectorTable({ detector }: { detector: DetectorSetting }) {
  const title = detector.name.replaceAll('_', ' ');
  return (
    <section aria-label={title}>
      <h3 className="settings-detector">{title}</h3>
      <p className="panel-note">{detector.description}</p>
      <div className="table-scroll">
        <table className="table" aria-label={`${title} thresholds`}>
          <thead>
            <tr>
              <th scope="col">Option</th>
              <th scope="col" className="num">
                Value
              </th>
              <th scope="col" className="num">
                Default
              </th>
              <th scope="col">What it means</th>
              <th scope="col">Set with</th>
            </tr>
          </thead>
          <tbody>
            {detector.options.map((option) => (
              <tr key={option.name}>
                <td className="mono">{option.name}</td>
                <td className="num">
                  {formatCount(option.value)}
                  {option.value !== option.default && (
                    <>
                      {' '}
                      <span className="tag tag-medium">changed</span>
                    </>
                  )}
                </td>
                <td className="num">{formatCount(option.default)}</td>
                <td>{option.help}</td>
                <td className="mono">
                  {option.key}
                  <br />
                  {option.env}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
