/**
 * "Mute similar…" on an alert, for analysts: a small form prefilled with this alert's type and
 * source that makes a suppression rule. Alerts it matches are still stored and listed on request,
 * but not notified; the rule shows on the Alert rules page, where it can be removed.
 */

import { useState } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import type { SuppressionRuleView } from './alert-types';
import {
  muteSimilarForm,
  suppressionBodyOf,
  type SuppressionForm,
  type SuppressionProblems,
} from './suppression-form';
import { SuppressionFields } from './SuppressionFields';
import { useAddSuppression } from './use-alert-api';

export function MuteSimilar({
  alert,
  onMuted,
}: {
  alert: { type: string; src: string | null };
  onMuted: (rule: SuppressionRuleView) => void;
}) {
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState<SuppressionForm>(() => muteSimilarForm(alert));
  const [problems, setProblems] = useState<SuppressionProblems>({});
  const add = useAddSuppression();
  const close = (): void => {
    setOpen(false);
    add.reset();
  };
  return (
    <>
      <button
        type="button"
        className="button-quiet"
        onClick={() => {
          // Prefilled anew each time: the alert may have changed since the last try.
          setForm(muteSimilarForm(alert));
          setProblems({});
          add.reset();
          setOpen(true);
        }}
      >
        Mute similar…
      </button>
      <ConfirmDialog
        open={open}
        title="Mute similar alerts"
        confirmLabel="Mute"
        busy={add.isPending}
        error={add.isError ? add.error.message : null}
        onCancel={close}
        onConfirm={() => {
          const body = suppressionBodyOf(form);
          if (!body.ok) {
            setProblems(body.problems);
            return;
          }
          setProblems({});
          add.mutate(body.value, {
            onSuccess: (rule) => {
              setOpen(false);
              onMuted(rule);
            },
          });
        }}
      >
        <p>
          Alerts that match are still kept and can be listed, but nobody is notified of them and the alert
          list hides them by default. Leave a field empty to match any.
        </p>
        <SuppressionFields
          form={form}
          problems={problems}
          onChange={(changes) => {
            setForm((f) => ({ ...f, ...changes }));
          }}
        />
      </ConfirmDialog>
    </>
  );
}
