/**
 * The certificate and private key the API speaks HTTPS with, read from the PEM files that
 * `server.tls` names and checked before the server starts: both files readable, a certificate in
 * the one and an unencrypted private key in the other, and the key the certificate's own. Each
 * problem becomes one BAD_CONFIG message that names the file, the setting and what to do, so the
 * admin never has to decode OpenSSL's "key values mismatch" or a bare ENOENT.
 *
 * It must never put the key's bytes into a message or a log.
 */

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ErrorCode, FlowTrackError, describeError } from '../util/errors.js';

/** Where the PEM files are (config.server.tls, paths already absolute). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** What Node's HTTPS server takes. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
}

const CERT_SETTING = 'server.tls.certFile (FLOWTRACK_SERVER_TLS_CERT_FILE)';
const KEY_SETTING = 'server.tls.keyFile (FLOWTRACK_SERVER_TLS_KEY_FILE)';

/** Reads and checks the certificate and key; throws FlowTrackError(BAD_CONFIG) saying what to fix. */
export function loadTlsCredentials(files: TlsFiles): TlsCredentials {
  const { certFile, keyFile } = files;
  const cert = readPem(certFile, 'certificate', CERT_SETTING);
  const key = readPem(keyFile, 'private key', KEY_SETTING);

  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw refuse(
      `the TLS certificate file ${certFile} holds no PEM certificate (${describeError(err)}): set ${CERT_SETTING} to the certificate ("-----BEGIN CERTIFICATE-----"), not to the key or a request`,
      err,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    // OpenSSL asks for a passphrase the server cannot type and reports "interrupted or cancelled".
    if (/ENCRYPTED/.test(key.toString('latin1'))) {
      throw refuse(
        `the TLS private key ${keyFile} is encrypted with a passphrase, which the server cannot ask for: write it out unencrypted (openssl pkey -in ${keyFile} -out NEW.pem), keep that file readable by the server's user only, and set ${KEY_SETTING} to it`,
        err,
      );
    }
    throw refuse(
      `the TLS private key file ${keyFile} holds no PEM private key (${describeError(err)}): set ${KEY_SETTING} to the key ("-----BEGIN PRIVATE KEY-----"), not to the certificate`,
      err,
    );
  }
  let belongs: boolean;
  try {
    belongs = certificate.checkPrivateKey(privateKey);
  } catch {
    belongs = false;
  }
  if (!belongs) {
    throw refuse(
      `the TLS private key ${keyFile} does not belong to the certificate ${certFile} (${certificate.subject.replace(/\n/g, ', ')}, SHA-256 ${certificate.fingerprint256}): set ${KEY_SETTING} to the key that certificate was issued for, or ${CERT_SETTING} to that key's certificate`,
    );
  }
  // What the HTTPS server itself will do with them (e.g. a key too weak for OpenSSL's policy).
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw refuse(
      `the TLS certificate ${certFile} and key ${keyFile} cannot be used (${describeError(err)}): replace them with a pair OpenSSL accepts`,
      err,
    );
  }
  return { cert, key };
}

function readPem(file: string, what: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `there is no such file: set ${setting} to the path of the PEM ${what}`
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied: make it readable by the user the server runs as`
          : code === 'EISDIR'
            ? `it is a folder: set ${setting} to the PEM ${what} file inside it`
            : `${describeError(err)}: check ${setting}`;
    throw refuse(`cannot read the TLS ${what} ${file}: ${why}`, err);
  }
}

function refuse(message: string, cause?: unknown): FlowTrackError {
  return new FlowTrackError(ErrorCode.BAD_CONFIG, message, cause === undefined ? {} : { cause });
}
