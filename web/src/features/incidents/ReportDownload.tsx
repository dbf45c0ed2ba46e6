/**
 * "Export report (HTML)": the incident's self-contained report through the signed-in session (a
 * plain link could not send the access token), saved by the browser under the server's name
 * (incident-<id>.html). A refusal is shown with the server's message.
 */

import { useState } from 'react';
import { saveFile } from '../../api/queries';
import { useApiClient } from '../../api/use-api';
import { incidentPath } from './use-incidents';

export function ReportDownload({ incidentId }: { incidentId: number }) {
  const client = useApiClient();
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const download = async (): Promise<void> => {
    setState({ busy: true, error: null });
    try {
      const { blob, filename } = await client.download(`${incidentPath(incidentId)}/report`);
      saveFile(blob, filename);
      setState({ busy: false, error: null });
    } catch (err) {
      setState({ busy: false, error: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <div className="inc-download">
      <button
        type="button"
        className="button-quiet"
        disabled={state.busy}
        aria-busy={state.busy}
        onClick={() => void download()}
      >
        Export report (HTML)
      </button>
      {state.error !== null && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
    </div>
  );
}
