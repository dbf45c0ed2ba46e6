/**
 * "Block source" on an alert, for admins: a confirmation that names the address to be blocked
 * and asks for how long, then a block rule through the firewall API. The API decides: it refuses
 * (409) to block this host's own address or the admin's, and that reason is shown in the dialog.
 */

import { useId, useState } from 'react';
import { useApiMutation } from '../../api/queries';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import type { CreatedFirewallRule } from './alert-types';
import { BLOCK_DURATIONS, blockRuleBody } from './block-source';

/** One hour unless the admin picks another: long enough to stop an attack, short enough to forget safely. */
const DEFAULT_SECONDS = 3600;

export function BlockSource({
  alert,
  onBlocked,
}: {
  alert: { id: string; src: string; summary: string };
  onBlocked: (rule: CreatedFirewallRule) => void;
}) {
  const [open, setOpen] = useState(false);
  const [seconds, setSeconds] = useState<number | null>(DEFAULT_SECONDS);
  const selectId = useId();
  const block = useApiMutation<number | null, CreatedFirewallRule>({
    method: 'POST',
    path: () => '/api/firewall/rules',
    body: (duration) => blockRuleBody(alert, duration),
    invalidates: ['/api/anomalies', '/api/firewall'],
  });
  const close = (): void => {
    setOpen(false);
    block.reset();
  };
  return (
    <>
      <button
        type="button"
        className="button-danger"
        onClick={() => {
          block.reset();
          setOpen(true);
        }}
      >
        Block source
      </button>
      <ConfirmDialog
        open={open}
        title={`Block ${alert.src}?`}
        confirmLabel="Block"
        danger
        busy={block.isPending}
        error={block.isError ? block.error.message : null}
        onCancel={close}
        onConfirm={() => {
          block.mutate(seconds, {
            onSuccess: (rule) => {
              setOpen(false);
              onBlocked(rule);
            },
          });
        }}
      >
        <p>
          This host&rsquo;s firewall will drop every packet from <code>{alert.src}</code>, the source of this
          alert. The rule names the alert and shows on the Firewall page, where it can be lifted.
        </p>
        <div className="field">
          <label htmlFor={selectId}>Block for</label>
          <select
            id={selectId}
            value={seconds === null ? 'permanent' : String(seconds)}
            onChange={(event) => {
              setSeconds(event.target.value === 'permanent' ? null : Number(event.target.value));
            }}
          >
            {BLOCK_DURATIONS.map((duration) => (
              <option
                key={duration.label}
                value={duration.seconds === null ? 'permanent' : String(duration.seconds)}
              >
                {duration.label}
              </option>
            ))}
          </select>
        </div>
      </ConfirmDialog>
    </>
  );
}
