/**
 * The analyst's form for a new scan: targets, ports, TCP and UDP, the engine, and whether to scan
 * only the hosts that answer. What the server refuses (a target outside the allowed networks is
 * 403, a full queue 429, a bad port list 400) is shown as it says it, and the form keeps its
 * values, so a second run of the same scan is one click.
 */

import { useId, useState, type SubmitEvent } from 'react';
import { defaultPortsText, EMPTY_SCAN_FORM, scanBodyOf, type ScanForm } from './scan-form';
import { SCAN_ENGINES, type ScanEngine, type ScanRecord } from './scan-types';
import { useStartScan } from './use-scans';

const ENGINE_LABEL: Record<ScanEngine, string> = {
  flowtrack: 'FlowTrack (built in)',
  nmap: 'nmap',
};

export function NewScanForm({ onStarted }: { onStarted: (scan: ScanRecord) => void }) {
  const [form, setForm] = useState<ScanForm>(EMPTY_SCAN_FORM);
  const [problem, setProblem] = useState<string | null>(null);
  const start = useStartScan();
  const ids = { targets: useId(), ports: useId(), engine: useId(), error: useId(), hint: useId() };
  const set = (changes: Partial<ScanForm>): void => {
    setForm((f) => ({ ...f, ...changes }));
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const body = scanBodyOf(form);
    if (!body.ok) {
      setProblem(body.error);
      return;
    }
    setProblem(null);
    start.mutate(body.value, { onSuccess: onStarted });
  };

  const error = problem ?? (start.isError ? start.error.message : null);
  return (
    <form
      className="scan-form"
      onSubmit={submit}
      aria-describedby={error === null ? undefined : ids.error}
      noValidate
    >
      <div className="toolbar">
        <div className="field scan-targets">
          <label htmlFor={ids.targets}>Targets</label>
          <input
            id={ids.targets}
            className="mono"
            value={form.targets}
            required
            placeholder="192.0.2.7, 192.0.2.0/24, 192.0.2.5-20, host.example.org"
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            aria-describedby={ids.hint}
            onChange={(e) => {
              set({ targets: e.target.value });
            }}
          />
          <span id={ids.hint} className="scan-hint">
            Separated by spaces or commas; only networks the server is allowed to scan.
          </span>
        </div>
        <div className="field scan-ports">
          <label htmlFor={ids.ports}>Ports</label>
          <input
            id={ids.ports}
            className="mono"
            value={form.ports}
            placeholder={defaultPortsText(form.tcp, form.udp)}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => {
              set({ ports: e.target.value });
            }}
          />
        </div>
      </div>
      <div className="toolbar scan-options">
        <fieldset className="scan-protocols">
          <legend>Protocols</legend>
          <label className="scan-check">
            <input
              type="checkbox"
              checked={form.tcp}
              onChange={(e) => {
                set({ tcp: e.target.checked });
              }}
            />
            TCP
          </label>
          <label className="scan-check">
            <input
              type="checkbox"
              checked={form.udp}
              onChange={(e) => {
                set({ udp: e.target.checked });
              }}
            />
            UDP
          </label>
        </fieldset>
        <div className="field">
          <label htmlFor={ids.engine}>Engine</label>
          <select
            id={ids.engine}
            value={form.engine}
            onChange={(e) => {
              set({ engine: e.target.value as ScanEngine });
            }}
          >
            {SCAN_ENGINES.map((engine) => (
              <option key={engine} value={engine}>
                {ENGINE_LABEL[engine]}
              </option>
            ))}
          </select>
        </div>
        <label className="scan-check scan-discovery">
          <input
            type="checkbox"
            checked={form.discovery}
            onChange={(e) => {
              set({ discovery: e.target.checked });
            }}
          />
          Only hosts that answer
        </label>
        <button type="submit" className="button-primary scan-submit" disabled={start.isPending}>
          {start.isPending ? 'Starting…' : 'Start scan'}
        </button>
      </div>
      {error !== null && (
        <p id={ids.error} className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
