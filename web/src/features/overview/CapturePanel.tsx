/** Is capture working: each interface's state, packets, kernel drops and restarts. */

import type { CaptureInterface, CaptureView } from '../../api/api-types';
import { useApiQuery } from '../../api/queries';
import { Panel, PanelEmpty } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatCount } from '../../lib/format';

export function CapturePanel() {
  const capture = useApiQuery<CaptureView>('/api/capture', 5000);
  return (
    <Panel title="Capture">
      <QueryView query={capture} loadingLines={2}>
        {(data) => <CaptureState capture={data} />}
      </QueryView>
    </Panel>
  );
}

function CaptureState({ capture }: { capture: CaptureView }) {
  return capture.mode === 'off' ? (
    <PanelEmpty title="Nothing is being captured">
      The server runs without capture (<code>--no-capture</code> or <code>capture.enabled: false</code>); the
      API and the store work as usual.
    </PanelEmpty>
  ) : capture.mode === 'replay' ? (
    <PanelEmpty title="Replaying a capture file">
      The rates and alerts come from the file, at its pace.
    </PanelEmpty>
  ) : capture.interfaces.length === 0 ? (
    <PanelEmpty title="Starting capture">No interface has reported yet.</PanelEmpty>
  ) : (
    <table className="capture-table">
      <thead>
        <tr>
          <th scope="col">Interface</th>
          <th scope="col">State</th>
          <th scope="col" className="num">
            Packets
          </th>
          <th scope="col" className="num">
            Kernel drops
          </th>
          <th scope="col" className="num">
            Restarts
          </th>
        </tr>
      </thead>
      <tbody>
        {capture.interfaces.map((i) => (
          <InterfaceRow key={i.interface} capture={i} />
        ))}
      </tbody>
    </table>
  );
}

function InterfaceRow({ capture }: { capture: CaptureInterface }) {
  const { counters } = capture;
  return (
    <>
      <tr>
        <th scope="row">{capture.interface}</th>
        <td>
          <span className={`state-dot state-${capture.state}`} /> {capture.state}
        </td>
        <td className="num">{formatCount(counters.packets)}</td>
        <td className={counters.kernelDropped > 0 ? 'num warn' : 'num'}>
          {formatCount(counters.kernelDropped)}
        </td>
        <td className={counters.restarts > 0 ? 'num warn' : 'num'}>{formatCount(counters.restarts)}</td>
      </tr>
      {capture.failure !== null && (
        <tr className="failure">
          <td colSpan={5}>{capture.failure}</td>
        </tr>
      )}
    </>
  );
}
