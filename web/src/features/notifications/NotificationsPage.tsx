/**
 * /notifications (admins): the channels alerts are sent through (email, webhook, syslog), each
 * with what it takes, its rate limit, where it sends and how its deliveries went; adding, editing,
 * switching off, testing and deleting them; and the delivery log beneath, refreshed every 10 s.
 */

import './notifications.css';
import { useState } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { ChannelEditor } from './ChannelEditor';
import { ChannelsTable } from './ChannelsTable';
import { targetSummary } from './channel-format';
import { DeliveryLog } from './DeliveryLog';
import type { ChannelList, ChannelView } from './notification-types';
import { useChannels, useDeleteChannel } from './use-notifications';

/** The editor's state: closed, a new channel, or a change to one. */
type Editing = null | { channel: ChannelView | null };

export function NotificationsPage() {
  const channels = useChannels();
  const [editing, setEditing] = useState<Editing>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ChannelView | null>(null);
  const remove = useDeleteChannel();

  const editorTitle = editing?.channel ? `Edit channel ${editing.channel.name}` : 'New channel';
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Notifications</h1>
        <button
          type="button"
          className="button-primary"
          aria-expanded={editing !== null && editing.channel === null}
          aria-controls="nt-editor"
          onClick={() => {
            setEditing((e) => (e !== null && e.channel === null ? null : { channel: null }));
            setNotice(null);
          }}
        >
          Add channel
        </button>
      </header>
      {editing !== null && (
        <section id="nt-editor" className="panel" aria-label={editorTitle}>
          <header className="panel-header">
            <h2>{editorTitle}</h2>
          </header>
          <ChannelEditor
            key={editing.channel?.id ?? 'new'}
            channel={editing.channel}
            onSaved={(saved) => {
              setNotice(
                `${editing.channel === null ? 'Channel added' : 'Channel saved'}: ${saved.name}. Send a test to check it reaches its target.`,
              );
              setEditing(null);
            }}
            onCancel={() => {
              setEditing(null);
            }}
          />
        </section>
      )}
      {notice !== null && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <Panel title="Notification channels">
        <QueryView
          query={channels}
          loadingLines={4}
          isEmpty={(data: ChannelList) => data.channels.length === 0}
          empty={{
            title: 'No channels yet',
            hint: 'Add an email, webhook (Slack, Teams) or syslog channel to be told of alerts as they are raised.',
          }}
        >
          {(data) => (
            <ChannelsTable
              channels={data.channels}
              onEdit={(channel) => {
                setNotice(null);
                setEditing({ channel });
              }}
              onDelete={(channel) => {
                remove.reset();
                setDeleting(channel);
              }}
            />
          )}
        </QueryView>
      </Panel>
      <DeliveryLog channels={channels.data?.channels ?? []} />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting === null ? 'Delete channel' : `Delete channel ${deleting.name}?`}
        confirmLabel="Delete channel"
        danger
        busy={remove.isPending}
        error={remove.isError ? remove.error.message : null}
        onConfirm={() => {
          if (deleting === null) return;
          remove.mutate(deleting.id, {
            onSuccess: (deleted) => {
              setDeleting(null);
              if (editing?.channel?.id === deleted.id) setEditing(null);
              setNotice(`Channel deleted: ${deleted.name}.`);
            },
          });
        }}
        onCancel={() => {
          setDeleting(null);
        }}
      >
        {deleting !== null && (
          <>
            <p>
              Alerts stop going to <span className="mono">{targetSummary(deleting)}</span>.
            </p>
            <p className="nt-muted">Its delivery log stays, and the deletion is audited.</p>
          </>
        )}
      </ConfirmDialog>
    </div>
  );
}
