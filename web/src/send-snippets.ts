/**
 * What the empty inbox offers to copy: the SMTP address to send to, and a swaks and a nodemailer
 * one-liner that work against this Kotak as configured (AUTH, TLS, a certificate made at start).
 * Pure: the server's GET /api/smtp and the page's host name in, text out.
 */
import type { SmtpInfo } from '../../src/client/types.js';

/** Listening on every interface says nothing about the name a client uses: the page's host is the best guess. */
const EVERY_INTERFACE = new Set(['', '0.0.0.0', '::', '[::]']);

const FROM = 'app@example.test';
const TO = 'dev@example.test';

/** The host a client should connect to: the configured one, or the page's when SMTP listens everywhere. */
export function smtpHost(info: SmtpInfo, pageHostname: string): string {
  const host = EVERY_INTERFACE.has(info.host) ? pageHostname : info.host;
  // location.hostname keeps an IPv6 address in brackets; the tools want it bare.
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** `host:port` as people write it (an IPv6 address in brackets). */
export function smtpAddress(info: SmtpInfo, pageHostname: string): string {
  const host = smtpHost(info, pageHostname);
  return `${host.includes(':') ? `[${host}]` : host}:${info.port}`;
}

/** Credentials that work: any pair when Kotak accepts any, placeholders when it checks a file. */
function credentials(info: SmtpInfo): { user: string; pass: string } | null {
  if (info.auth === 'off') return null;
  return info.auth === 'any' ? { user: 'test', pass: 'test' } : { user: 'USER', pass: 'PASSWORD' };
}

export function swaksCommand(info: SmtpInfo, pageHostname: string): string {
  const parts = ['swaks', '--server', smtpHost(info, pageHostname), '--port', String(info.port), '--from', FROM, '--to', TO];
  // swaks does not verify certificates unless asked, so a self-signed one needs no flag.
  if (info.tls === 'implicit') parts.push('--tlsc');
  else if (info.tls === 'required') parts.push('--tls');
  const login = credentials(info);
  if (login) parts.push('--auth-user', login.user, '--auth-password', login.pass);
  parts.push('--header', '"Subject: Hello from swaks"', '--body', '"It works"');
  return parts.join(' ');
}

export function nodemailerCommand(info: SmtpInfo, pageHostname: string): string {
  const options = [`host: '${smtpHost(info, pageHostname)}'`, `port: ${info.port}`];
  if (info.tls === 'implicit') options.push('secure: true');
  if (info.tls === 'required') options.push('requireTLS: true');
  // nodemailer upgrades to STARTTLS whenever it is offered, and then checks the certificate.
  if (info.tls !== 'off' && info.selfSigned) options.push('tls: { rejectUnauthorized: false }');
  const login = credentials(info);
  if (login) options.push(`auth: { user: '${login.user}', pass: '${login.pass}' }`);
  const message = `{ from: '${FROM}', to: '${TO}', subject: 'Hello from nodemailer', text: 'It works' }`;
  return `node -e "require('nodemailer').createTransport({ ${options.join(', ')} }).sendMail(${message}).then((info) => console.log(info.response))"`;
}
