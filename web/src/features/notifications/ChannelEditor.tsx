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
import { Field, SelectField } from '../../components/Field';
import {
  CHANNEL_KINDS,
  EMAIL_SECURITY,
  SYSLOG_FACILITIES,
  SYSLOG_FORMATS,
  SYSLOG_TRANSPORTS,
  WEBHOOK_FORMATS,
  type ChannelView,
  type EmailSecurity,
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
        <SelectField
          label="Kind"
          hint={channel === null ? undefined : 'A channel keeps its kind.'}
          value={form.kind}
          options={CHANNEL_KINDS}
          disabled={channel !== null}
          optionLabel={(kind) => KIND_LABEL[kind]}
          onChange={(value) => {
            set({ kind: value });
          }}
        />
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
          <SelectField
            label="Minimum severity"
            value={form.minSeverity}
            options={SEVERITIES}
            onChange={(value) => {
              set({ minSeverity: value });
            }}
          />
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
        <SelectField
          label="Security"
          error={errors['email.security']}
          value={form.security}
          options={EMAIL_SECURITY}
          optionLabel={(security) => SECURITY_LABEL[security]}
          onChange={(security) => {
            onChange({ security, port: emailPortFor(security, form.port) });
          }}
        />
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
        <SelectField
          label="Format"
          value={form.format}
          options={WEBHOOK_FORMATS}
          optionLabel={(format) => WEBHOOK_FORMAT_LABEL[format]}
          onChange={(value) => {
            onChange({ format: value });
          }}
        />
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
        <SelectField
          label="Transport"
          value={form.transport}
          options={SYSLOG_TRANSPORTS}
          optionLabel={(transport) => transport.toUpperCase()}
          onChange={(value) => {
            onChange({ transport: value });
          }}
        />
      </div>
      <div className="toolbar">
        <SelectField
          label="Facility"
          value={form.facility}
          options={SYSLOG_FACILITIES}
          onChange={(value) => {
            onChange({ facility: value });
          }}
        />
        <SelectField
          label="Format"
          value={form.msgFormat}
          options={SYSLOG_FORMATS}
          optionLabel={(format) => (format === 'cef' ? 'CEF (ArcSight, most SIEMs)' : 'Text (RFC 5424)')}
          onChange={(value) => {
            onChange({ msgFormat: value });
          }}
        />
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
