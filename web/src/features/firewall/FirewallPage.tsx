/**
 * /firewall: the rules in force (history on request, ?history=1), refreshed every 5 s, and the
 * policy that makes and refuses blocks. Admins add, edit and remove rules and switch automatic
 * blocking; viewers see the same page without those controls (the API refuses them anyway).
 */

import './firewall.css';
import type { UseQueryResult } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../../api/api-client';
import { useCan } from '../../api/session';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Panel, PanelEmpty } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { useQueryParams } from '../../lib/router';
import { AddRuleForm } from './AddRuleForm';
import { DryRunPanel } from './DryRunPanel';
import { EditRuleDialog } from './EditRuleDialog';
import { liftEffect, ruleSummary, sortRules } from './firewall-format';
import type { FirewallRule, FirewallRuleList } from './firewall-types';
import { PolicyPanel } from './PolicyPanel';
import { RulesTable } from './RulesTable';
import { useNow } from '../../lib/use-now';
import { useFirewallRules, useFirewallStatus, useRemoveRule } from './use-firewall';

export function FirewallPage() {
  const canAdmin = useCan('admin');
  const [query, setQuery] = useQueryParams();
  const history = query.get('history') === '1';
  const rules = useFirewallRules(history);
  const status = useFirewallStatus();
  const now = useNow(15_000);
  const [adding, setAdding] = useState(false);
  const [added, setAdded] = useState<FirewallRule | null>(null);
  const [editing, setEditing] = useState<FirewallRule | null>(null);
  const [removing, setRemoving] = useState<FirewallRule | null>(null);
  const remove = useRemoveRule();

  if (managesNoFirewall(status) || managesNoFirewall(rules)) {
    return (
      <>
        <header className="page-header">
          <h1>Firewall</h1>
        </header>
        <section className="panel">
          <PanelEmpty title="This server manages no firewall">
            It runs without the firewall service, so there are no rules to show or change here.
          </PanelEmpty>
        </section>
      </>
    );
  }

  const dryRun = status.data?.mode === 'dry-run';
  return (
    <>
      <header className="page-header">
        <h1>
          Firewall{' '}
          {status.data !== undefined && (
            <span className={dryRun ? 'tag tag-muted' : 'tag tag-ok'}>
              {dryRun ? 'dry run' : 'enforcing'}
            </span>
          )}
        </h1>
        {canAdmin && (
          <button
            type="button"
            className="button-primary"
            aria-expanded={adding}
            aria-controls="fw-add-rule"
            onClick={() => {
              setAdding((a) => !a);
              setAdded(null);
            }}
          >
            Add rule
          </button>
        )}
      </header>
      <div className="stack">
        {canAdmin && adding && (
          <section id="fw-add-rule" className="panel" aria-label="New rule">
            <header className="panel-header">
              <h2>New rule</h2>
            </header>
            <AddRuleForm
              now={now}
              onAdded={(rule) => {
                setAdding(false);
                setAdded(rule);
              }}
              onCancel={() => {
                setAdding(false);
              }}
            />
          </section>
        )}
        {added !== null && (
          <p className="notice" role="status">
            Rule {added.id} added: {ruleSummary(added)}
            {dryRun && ' (dry run: kept and shown, not enforced)'}.
          </p>
        )}
        <Panel
          title={history ? 'Rules, with history' : 'Rules in force'}
          aside={
            <button
              type="button"
              className="button-quiet fw-toggle"
              aria-pressed={history}
              onClick={() => {
                setQuery({ history: history ? undefined : '1' });
              }}
            >
              History
            </button>
          }
        >
          <QueryView
            query={rules}
            loadingLines={5}
            isEmpty={(data: FirewallRuleList) => data.items.length === 0}
            empty={{
              title: history ? 'No rules yet' : 'No rules in force',
              hint: canAdmin
                ? 'Blocks appear here when automatic blocking acts on an alert, or when you add a rule.'
                : 'Blocks appear here when automatic blocking acts on an alert, or an admin adds a rule.',
            }}
          >
            {(data) => (
              <>
                <RulesTable
                  rules={sortRules(data.items, now)}
                  now={now}
                  history={history}
                  canAdmin={canAdmin}
                  onEdit={setEditing}
                  onRemove={(rule) => {
                    remove.reset();
                    setRemoving(rule);
                  }}
                />
                {history && data.items.length >= 1000 && (
                  <p className="panel-note">The latest 1000 rules; older ones are in the audit log.</p>
                )}
              </>
            )}
          </QueryView>
        </Panel>
        <div className="fw-columns">
          <PolicyPanel status={status} now={now} canAdmin={canAdmin} />
          {status.data?.wouldHaveDone !== undefined && (
            <DryRunPanel actions={status.data.wouldHaveDone} now={now} />
          )}
        </div>
      </div>
      {editing !== null && (
        <EditRuleDialog
          key={editing.id}
          rule={editing}
          now={now}
          onClose={() => {
            setEditing(null);
          }}
        />
      )}
      {canAdmin && (
        <ConfirmDialog
          open={removing !== null}
          title={removing === null ? 'Remove rule' : `Remove rule ${removing.id}?`}
          confirmLabel="Remove rule"
          danger
          busy={remove.isPending}
          error={remove.isError ? remove.error.message : null}
          onConfirm={() => {
            if (removing === null) return;
            remove.mutate(removing.id, {
              onSuccess: () => {
                setRemoving(null);
              },
            });
          }}
          onCancel={() => {
            setRemoving(null);
          }}
        >
          {removing !== null && (
            <>
              <p>
                <span className="mono">{ruleSummary(removing)}</span>
                {removing.comment !== null && <> ({removing.comment})</>}
              </p>
              <p>{liftEffect(removing)}</p>
              <p className="fw-muted">The rule stays in the history, and the removal is audited.</p>
            </>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}

/** Whether the API says this server runs without a firewall (its routes answer 404 then). */
function managesNoFirewall(query: UseQueryResult): boolean {
  return query.data === undefined && query.error instanceof ApiError && query.error.status === 404;
}
