/**
 * The delivery log: every notification the channels sent, are retrying or gave up, newest first,
 * filtered by channel and status (kept in the URL), one cursor page at a time, refreshed every
 * 10 s so a retry is seen to go. Titles and errors come from alerts and receivers: shown as text.
 */

import { CursorPager, useCursorPaging } from '../../components/CursorPager';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatTimestamp } from '../../lib/format';
import { Link, useQueryParams } from '../../lib/router';
import { useNow } from '../../lib/use-now';
import { channelNameOf, deliveryNextText } from './channel-format';
import { Field } from '../../components/Field';
import { deliveryFiltersKey, readDeliveryFilters, type DeliveryFilters } from './delivery-filters';
import { DELIVERY_STATUSES, type ChannelView, type DeliveryStatus } from './notification-types';
import { useDeliveries } from './use-notifications';

const STATUS_CLASS: Record<DeliveryStatus, string> = {
  pending: 'tag nt-pending',
  sent: 'tag tag-ok',
  failed: 'tag nt-failed',
};

export function DeliveryLog({ channels }: { channels: readonly ChannelView[] }) {
  const [query, setQuery] = useQueryParams();
  const filters = readDeliveryFilters(query);
  return (
    <Panel
      title="Delivery log"
      aside={
        <div className="nt-log-filters">
          <Field label="Channel">
            {(control) => (
              <select
                {...control}
                value={filters.channel ?? ''}
                onChange={(e) => {
                  setQuery({ channel: e.target.value });
                }}
              >
                <option value="">All</option>
                {channels.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
                {/* A channel deleted since (its log stays) still shows as the filter. */}
                {filters.channel !== undefined && !channels.some((c) => c.id === filters.channel) && (
                  <option value={filters.channel}>{channelNameOf(filters.channel, channels)}</option>
                )}
              </select>
            )}
          </Field>
          <Field label="Status">
            {(control) => (
              <select
                {...control}
                value={filters.status ?? ''}
                onChange={(e) => {
                  setQuery({ status: e.target.value });
                }}
              >
                <option value="">Any</option>
                {DELIVERY_STATUSES.map((status) => (
                  <option key={status} value={status}>
                    {status}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
      }
    >
      {/* Keyed by the filters: paging starts again at the newest page when they change. */}
      <DeliveryTable key={deliveryFiltersKey(filters)} filters={filters} channels={channels} />
    </Panel>
  );
}

function DeliveryTable({
  filters,
  channels,
}: {
  filters: DeliveryFilters;
  channels: readonly ChannelView[];
}) {
  const paging = useCursorPaging();
  const deliveries = useDeliveries(filters, paging.cursor);
  const now = useNow(5000);
  const filtered = filters.channel !== undefined || filters.status !== undefined;
  return (
    <QueryView
      query={deliveries}
      loadingLines={6}
      isEmpty={(page) => page.items.length === 0 && paging.pageNumber === 1}
      empty={
        filtered
          ? { title: 'No deliveries match these filters', hint: 'Choose another channel or status.' }
          : {
              title: 'Nothing sent yet',
              hint: 'Deliveries appear here when an alert reaches a channel, or when you send a test.',
            }
      }
    >
      {(page) => (
        <>
          <div className="table-scroll">
            <table className="table nt-log" aria-label="Delivery log">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Title</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">Next attempt</th>
                  <th scope="col">Last error</th>
                  <th scope="col">Alert</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((d) => (
                  <tr key={d.id}>
                    <td className="nt-nowrap">
                      <time dateTime={new Date(d.createdAt).toISOString()}>
                        {formatTimestamp(d.createdAt)}
                      </time>
                    </td>
                    <td>{channelNameOf(d.channelId, channels)}</td>
                    <td>{d.kind}</td>
                    <td className="nt-title">{d.title}</td>
                    <td>
                      <span className={STATUS_CLASS[d.status]}>{d.status}</span>
                    </td>
                    <td className="num">{d.attempts}</td>
                    <td className="nt-nowrap">{deliveryNextText(d, now)}</td>
                    <td className="nt-error">{d.lastError ?? <span className="nt-muted">–</span>}</td>
                    <td>
                      {d.alertId === null ? (
                        <span className="nt-muted">–</span>
                      ) : (
                        <Link className="mono nt-nowrap" to={`/alerts/${encodeURIComponent(d.alertId)}`}>
                          {d.alertId}
                        </Link>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <CursorPager paging={paging} nextCursor={page.nextCursor} />
        </>
      )}
    </QueryView>
  );
}
