/**
 * The channels table: what each channel takes, how often at most, where it sends and how its
 * deliveries went, with Edit, Enable/Disable, Send test and Delete. A test's answer is shown in
 * its row ("Sent", or the receiver's error) until the next one. Every row has the same buttons,
 * so each is described by its row's name cell.
 */

import { useId } from 'react';
import { formatCount } from '../../lib/format';
import {
  KIND_LABEL,
  minSeverityText,
  rateLimitText,
  targetSummary,
  testResultText,
  typesText,
} from './channel-format';
import { enabledBodyOf } from './channel-form';
import type { ChannelView } from './notification-types';
import { useTestChannel, useUpdateChannel } from './use-notifications';

export function ChannelsTable({
  channels,
  onEdit,
  onDelete,
}: {
  channels: readonly ChannelView[];
  onEdit: (channel: ChannelView) => void;
  onDelete: (channel: ChannelView) => void;
}) {
  return (
    <div className="table-scroll">
      <table className="table nt-channels" aria-label="Notification channels">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Enabled</th>
            <th scope="col">Min severity</th>
            <th scope="col">Types</th>
            <th scope="col">Rate limit</th>
            <th scope="col">Target</th>
            <th scope="col" className="num" title="Pending / sent / failed">
              Deliveries
            </th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {channels.map((channel) => (
            <ChannelRow key={channel.id} channel={channel} onEdit={onEdit} onDelete={onDelete} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ChannelRow({
  channel,
  onEdit,
  onDelete,
}: {
  channel: ChannelView;
  onEdit: (channel: ChannelView) => void;
  onDelete: (channel: ChannelView) => void;
}) {
  const test = useTestChannel();
  const toggle = useUpdateChannel();
  const nameId = useId();
  const { pending, sent, failed } = channel.deliveries;
  return (
    <tr className={channel.enabled ? undefined : 'nt-disabled'}>
      <th id={nameId} scope="row" className="nt-name">
        {channel.name}
      </th>
      <td>{KIND_LABEL[channel.kind]}</td>
      <td>
        {channel.enabled ? (
          <span className="tag tag-ok">enabled</span>
        ) : (
          <span className="tag tag-muted">disabled</span>
        )}
      </td>
      <td>
        <span className={`tag tag-${channel.minSeverity}`} title={minSeverityText(channel.minSeverity)}>
          {channel.minSeverity}
        </span>
      </td>
      <td className="nt-types-cell">{typesText(channel.types)}</td>
      <td className="nt-nowrap">{rateLimitText(channel.maxPerWindow, channel.windowMinutes)}</td>
      <td className="mono nt-target">{targetSummary(channel)}</td>
      <td className="num nt-nowrap">
        <span title="pending">{formatCount(pending)}</span> / <span title="sent">{formatCount(sent)}</span> /{' '}
        <span title="failed" className={failed > 0 ? 'nt-failed' : undefined}>
          {formatCount(failed)}
        </span>
        <span className="visually-hidden"> (pending / sent / failed)</span>
      </td>
      <td>
        <div className="nt-actions">
          <button
            type="button"
            className="button-quiet"
            aria-describedby={nameId}
            onClick={() => {
              onEdit(channel);
            }}
          >
            Edit
          </button>
          <button
            type="button"
            className="button-quiet"
            aria-describedby={nameId}
            disabled={toggle.isPending}
            onClick={() => {
              toggle.mutate({ id: channel.id, body: enabledBodyOf(channel, !channel.enabled) });
            }}
          >
            {channel.enabled ? 'Disable' : 'Enable'}
          </button>
          <button
            type="button"
            className="button-quiet"
            aria-describedby={nameId}
            disabled={test.isPending}
            aria-busy={test.isPending}
            onClick={() => {
              test.mutate(channel.id);
            }}
          >
            {test.isPending ? 'Sending…' : 'Send test'}
          </button>
          <button
            type="button"
            className="button-quiet nt-delete"
            aria-describedby={nameId}
            onClick={() => {
              onDelete(channel);
            }}
          >
            Delete
          </button>
        </div>
        {/* The latest test's answer: the page stays put, so it is announced where it appears. */}
        <div role="status" className="nt-test-result">
          {test.isSuccess && (
            <span className={test.data.status === 'sent' ? 'nt-sent' : 'nt-failed'}>
              {testResultText(test.data)}
            </span>
          )}
          {test.isError && <span className="nt-failed">{test.error.message}</span>}
        </div>
        {toggle.isError && (
          <p className="field-error" role="alert">
            {toggle.error.message}
          </p>
        )}
      </td>
    </tr>
  );
}
