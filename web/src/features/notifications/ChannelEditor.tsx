/**
 * The admin's form for a new channel or a change to one: its kind's settings (email, webhook,
 * syslog), which alerts it takes and how many at most. Problems are pointed out beside their
 * field before a round trip; what the server refuses is shown as it says it, and the form keeps
 * its values. Secrets are never shown back: on an edit an empty secret field keeps the stored one.
 */

import { useState, type ReactNode, type SubmitEvent } from 'react';
import { SEVERITIES } from '../../api/api-types';
import { ALERT_TYPE_LABELS, ALERT_TYPES } from '../alerts/alert-types';
import { defaultSyslogPort, KIND_LABEL } from './channel-format';
import {
  channelBodyOf,
  channelFormOf,
  cleartextLoginWarning,
  EMPTY_CHANNEL_FORM,
  emailPortFor,
  storedSecretsOf,
  type ChannelForm,
  type FieldErrors,
} from './channel-form';
import { Field } from '../../components/Field';
import {
  CHANNEL_KINDS,
  EMAIL_SECURITY,
  SYSLOG_FACILITIES,
  SYSLOG_FORMATS,
  SYSLOG_TRANSPORTS,
  WEBHOOK_FORMATS,
  type ChannelKind,
  type ChannelView,
  type EmailSecurity,
  type SyslogFacility,
  type SyslogFormat,
  type SyslogTransport,
  type WebhookFormat,
} from './notification-types';
import { useAddChannel, useUpdateChannel } from './use-notifications';

const SECURITY_LABEL: Record<EmailSecurity, string> = {
  starttls: 'STARTTLS (port 587)',
  tls: 'TLS from the start (port 465)',
  none: 'None (a relay on this host only)',
};

const WEBHOOK_FORMAT_LABEL: Record<WebhookFormat, string> = {
  json: 'JSON (FlowTrack’s own)',
  slack: 'Slack',
  teams: 'Microsoft Teams',
};

export function ChannelEditor({
  channel,
  onSaved,
  onCancel,
}: {
  /** The channel to change; null: a new one. */
  channel: ChannelView | null;
  onSaved: (saved: ChannelView) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<ChannelForm>(() =>
    channel === null ? EMPTY_CHANNEL_FORM : channelFormOf(channel),
  );
  const [errors, setErrors] = useState<FieldErrors>({});
  const add = useAddChannel();
  const update = useUpdateChannel();
  const save = channel === null ? add : update;
  const stored = channel === null ? null : storedSecretsOf(channel);

  const set = (changes: Partial<ChannelForm>): void => {
    setForm((f) => ({ ...f, ...changes }));
  };
  const setEmail = (changes: Partial<ChannelForm['email']>): void => {
    setForm((f) => ({ ...f, email: { ...f.email, ...changes } }));
  };
  const setWebhook = (changes: Partial<ChannelForm['webhook']>): void => {
    setForm((f) => ({ ...f, webhook: { ...f.webhook, ...changes } }));
  };
  const setSyslog = (changes: Partial<ChannelForm['syslog']>): void => {
    setForm((f) => ({ ...f, syslog: { ...f.syslog, ...changes } }));
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const checked = channelBodyOf(form, stored);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors({});
    if (channel === null) add.mutate(checked.body, { onSuccess: onSaved });
    else update.mutate({ id: channel.id, body: checked.body }, { onSuccess: onSaved });
  };

  const problems = Object.keys(errors).length;
  return (
    <form className="nt-form" onSubmit={submit} noValidate>
      <div className="toolbar">
        <Field label="Name" error={errors.name} className="nt-grow">
          {(control) => (
            <input
              {...control}
              value={form.name}
              maxLength={64}
              autoFocus
              autoComplete="off"
              placeholder="SOC mailbox"
              onChange={(e) => {
                set({ name: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Kind" hint={channel === null ? undefined : 'A channel keeps its kind.'}>
          {(control) => (
            <select
              {...control}
              value={form.kind}
              disabled={channel !== null}
              onChange={(e) => {
                set({ kind: e.target.value as ChannelKind });
              }}
            >
              {CHANNEL_KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {KIND_LABEL[kind]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <label className="nt-check">
          <input
            type="checkbox"
            checked={form.enabled}
            onChange={(e) => {
              set({ enabled: e.target.checked });
            }}
          />
          Enabled
        </label>
      </div>

      {form.kind === 'email' && (
        <EmailFields
          form={form.email}
          errors={errors}
          passwordSet={stored?.passwordSet ?? null}
          onChange={setEmail}
        />
      )}
      {form.kind === 'webhook' && (
        <WebhookFields form={form.webhook} errors={errors} stored={stored} onChange={setWebhook} />
      )}
      {form.kind === 'syslog' && <SyslogFields form={form.syslog} errors={errors} onChange={setSyslog} />}

      <fieldset className="nt-fieldset">
        <legend>Which alerts, how many</legend>
        <div className="toolbar">
          <Field label="Minimum severity">
            {(control) => (
              <select
                {...control}
                value={form.minSeverity}
                onChange={(e) => {
                  set({ minSeverity: e.target.value as ChannelForm['minSeverity'] });
                }}
              >
                {SEVERITIES.map((severity) => (
                  <option key={severity} value={severity}>
                    {severity}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="At most" error={errors.maxPerWindow} hint="notifications (1–1000)">
            {(control) => (
              <input
                {...control}
                className="nt-number"
                inputMode="numeric"
                value={form.maxPerWindow}
                onChange={(e) => {
                  set({ maxPerWindow: e.target.value });
                }}
              />
            )}
          </Field>
          <Field
            label="Per window of minutes"
            error={errors.windowMinutes}
            hint="1–1440; the rest go in a digest"
          >
            {(control) => (
              <input
                {...control}
                className="nt-number"
                inputMode="numeric"
                value={form.windowMinutes}
                onChange={(e) => {
                  set({ windowMinutes: e.target.value });
                }}
              />
            )}
          </Field>
        </div>
        <fieldset className="nt-types">
          <legend>Alert types (none ticked: all types)</legend>
          {ALERT_TYPES.map((type) => (
            <label key={type} className="nt-check">
              <input
                type="checkbox"
                checked={form.types.includes(type)}
                onChange={(e) => {
                  const checked = e.target.checked;
                  setForm((f) => ({
                    ...f,
                    types: checked ? [...f.types, type] : f.types.filter((t) => t !== type),
                  }));
                }}
              />
              {ALERT_TYPE_LABELS[type]}
            </label>
          ))}
        </fieldset>
      </fieldset>

      {problems > 0 && (
        <p className="form-error" role="alert">
          {problems === 1 ? 'Fix the field marked above.' : `Fix the ${problems} fields marked above.`}
        </p>
      )}
      {save.isError && (
        <p className="form-error" role="alert">
          {save.error.message}
        </p>
      )}
      <div className="nt-form-actions">
        <button type="button" className="button-quiet" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button-primary" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : channel === null ? 'Save channel' : 'Save changes'}
        </button>
      </div>
    </form>
  );
}

function EmailFields({
  form,
  errors,
  passwordSet,
  onChange,
}: {
  form: ChannelForm['email'];
  errors: FieldErrors;
  /** On an edit, whether a password is stored; null for a new channel. */
  passwordSet: boolean | null;
  onChange: (changes: Partial<ChannelForm['email']>) => void;
}) {
  const warning = errors['email.security'] === undefined ? cleartextLoginWarning(form) : null;
  return (
    <KindFieldset legend="Email">
      <div className="toolbar">
        <Field label="SMTP host" error={errors['email.host']} className="nt-grow">
          {(control) => (
            <input
              {...control}
              className="mono"
              value={form.host}
              placeholder="smtp.example.com"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                onChange({ host: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Port" error={errors['email.port']}>
          {(control) => (
            <input
              {...control}
              className="nt-number"
              inputMode="numeric"
              value={form.port}
              onChange={(e) => {
                onChange({ port: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Security" error={errors['email.security']}>
          {(control) => (
            <select
              {...control}
              value={form.security}
              onChange={(e) => {
                const security = e.target.value as EmailSecurity;
                onChange({ security, port: emailPortFor(security, form.port) });
              }}
            >
              {EMAIL_SECURITY.map((security) => (
                <option key={security} value={security}>
                  {SECURITY_LABEL[security]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      {warning !== null && (
        <p className="nt-warning" role="alert">
          {warning}
        </p>
      )}
      <div className="toolbar">
        <Field label="User name (optional)" error={errors['email.username']}>
          {(control) => (
            <input
              {...control}
              value={form.username}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                onChange({ username: e.target.value });
              }}
            />
          )}
        </Field>
        <Field
          label="Password"
          error={errors['email.password']}
          hint={
            passwordSet === true
              ? 'A password is stored: leave empty to keep it.'
              : passwordSet === false
                ? 'None stored.'
                : undefined
          }
        >
          {(control) => (
            <input
              {...control}
              type="password"
              value={form.password}
              autoComplete="new-password"
              placeholder={passwordSet === true ? '(unchanged)' : ''}
              onChange={(e) => {
                onChange({ password: e.target.value });
              }}
            />
          )}
        </Field>
        <label className="nt-check">
          <input
            type="checkbox"
            checked={form.verifyCertificate}
            onChange={(e) => {
              onChange({ verifyCertificate: e.target.checked });
            }}
          />
          Verify the server’s certificate
        </label>
      </div>
      <div className="toolbar">
        <Field label="From" error={errors['email.from']}>
          {(control) => (
            <input
              {...control}
              type="email"
              value={form.from}
              placeholder="flowtrack@example.com"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                onChange({ from: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="To" error={errors['email.to']} hint="Comma separated, at most 50." className="nt-grow">
          {(control) => (
            <input
              {...control}
              value={form.to}
              placeholder="soc@example.com, oncall@example.com"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                onChange({ to: e.target.value });
              }}
            />
          )}
        </Field>
      </div>
      {form.ca !== null && <p className="field-hint">A CA certificate set through the API is kept.</p>}
    </KindFieldset>
  );
}

function WebhookFields({
  form,
  errors,
  stored,
  onChange,
}: {
  form: ChannelForm['webhook'];
  errors: FieldErrors;
  stored: { url: string | null; headers: string[] } | null;
  onChange: (changes: Partial<ChannelForm['webhook']>) => void;
}) {
  const headerHint =
    stored === null
      ? 'One "Name: value" a line, e.g. Authorization: Bearer …'
      : stored.headers.length === 0
        ? 'None stored. One "Name: value" a line.'
        : `Stored: ${stored.headers.join(', ')}. Leave empty to keep them; lines given here replace them all.`;
  return (
    <KindFieldset legend="Webhook">
      <div className="toolbar">
        <Field
          label="URL"
          error={errors['webhook.url']}
          hint={stored === null ? undefined : `Stored: ${stored.url ?? 'none'}. Leave empty to keep it.`}
          className="nt-grow"
        >
          {(control) => (
            <input
              {...control}
              type="url"
              className="mono"
              value={form.url}
              placeholder={stored === null ? 'https://hooks.slack.com/services/…' : '(unchanged)'}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                onChange({ url: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Format">
          {(control) => (
            <select
              {...control}
              value={form.format}
              onChange={(e) => {
                onChange({ format: e.target.value as WebhookFormat });
              }}
            >
              {WEBHOOK_FORMATS.map((format) => (
                <option key={format} value={format}>
                  {WEBHOOK_FORMAT_LABEL[format]}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field label="Headers" error={errors['webhook.headers']} hint={headerHint}>
        {(control) => (
          <textarea
            {...control}
            className="mono"
            rows={3}
            value={form.headers}
            spellCheck={false}
            onChange={(e) => {
              onChange({ headers: e.target.value });
            }}
          />
        )}
      </Field>
    </KindFieldset>
  );
}

function SyslogFields({
  form,
  errors,
  onChange,
}: {
  form: ChannelForm['syslog'];
  errors: FieldErrors;
  onChange: (changes: Partial<ChannelForm['syslog']>) => void;
}) {
  return (
    <KindFieldset legend="Syslog">
      <div className="toolbar">
        <Field label="Host" error={errors['syslog.host']} className="nt-grow">
          {(control) => (
            <input
              {...control}
              className="mono"
              value={form.host}
              placeholder="siem.example.com or 10.0.0.1"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                onChange({ host: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Port" error={errors['syslog.port']} hint="Empty: the default.">
          {(control) => (
            <input
              {...control}
              className="nt-number"
              inputMode="numeric"
              value={form.port}
              placeholder={String(defaultSyslogPort(form.transport))}
              onChange={(e) => {
                onChange({ port: e.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Transport">
          {(control) => (
            <select
              {...control}
              value={form.transport}
              onChange={(e) => {
                onChange({ transport: e.target.value as SyslogTransport });
              }}
            >
              {SYSLOG_TRANSPORTS.map((transport) => (
                <option key={transport} value={transport}>
                  {transport.toUpperCase()}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="toolbar">
        <Field label="Facility">
          {(control) => (
            <select
              {...control}
              value={form.facility}
              onChange={(e) => {
                onChange({ facility: e.target.value as SyslogFacility });
              }}
            >
              {SYSLOG_FACILITIES.map((facility) => (
                <option key={facility} value={facility}>
                  {facility}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Format">
          {(control) => (
            <select
              {...control}
              value={form.msgFormat}
              onChange={(e) => {
                onChange({ msgFormat: e.target.value as SyslogFormat });
              }}
            >
              {SYSLOG_FORMATS.map((format) => (
                <option key={format} value={format}>
                  {format === 'cef' ? 'CEF (ArcSight, most SIEMs)' : 'Text (RFC 5424)'}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="App name (optional)" error={errors['syslog.appName']}>
          {(control) => (
            <input
              {...control}
              value={form.appName}
              placeholder="flowtrack"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                onChange({ appName: e.target.value });
              }}
            />
          )}
        </Field>
        {form.transport === 'tls' && (
          <label className="nt-check">
            <input
              type="checkbox"
              checked={form.verifyCertificate}
              onChange={(e) => {
                onChange({ verifyCertificate: e.target.checked });
              }}
            />
            Verify the server’s certificate
          </label>
        )}
      </div>
      {form.ca !== null && <p className="field-hint">A CA certificate set through the API is kept.</p>}
    </KindFieldset>
  );
}

function KindFieldset({ legend, children }: { legend: string; children: ReactNode }) {
  return (
    <fieldset className="nt-fieldset">
      <legend>{legend}</legend>
      {children}
    </fieldset>
  );
}
