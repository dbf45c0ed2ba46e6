/**
 * "Download evidence (pcap)": the alert's packets through the signed-in session (a plain link
 * could not send the access token), saved by the browser. When no packets were kept the server
 * says why (a 404 with its message), and that is shown here.
 */

import { useState } from 'react';
import { useApiClient } from '../../api/use-api';
import { saveFile } from '../../api/queries';

export function EvidenceDownload({ alertId }: { alertId: string }) {
  const client = useApiClient();
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const download = async (): Promise<void> => {
    setState({ busy: true, error: null });
    try {
      const { blob, filename } = await client.download(
        `/api/anomalies/${encodeURIComponent(alertId)}/evidence`,
      );
      saveFile(blob, filename);
      setState({ busy: false, error: null });
    } catch (err) {
      setState({ busy: false, error: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <div className="evidence-download">
      <button
        type="button"
        className="button-quiet"
        disabled={state.busy}
        aria-busy={state.busy}
        onClick={() => void download()}
      >
        Download evidence (pcap)
      </button>
      {state.error !== null && (
        <p className="alert-action-error" role="alert">
          {state.error}
        </p>
      )}
    </div>
  );
}
