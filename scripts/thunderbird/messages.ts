/** The mail an app under test might send: what the Thunderbird screenshots show in Kotak's INBOX. */
import type { SendMailOptions } from 'nodemailer';

/** A one-page PDF, small and valid, so Thunderbird shows a real attachment. */
const INVOICE_PDF = [
  '%PDF-1.4',
  '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
  '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
  '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj',
  'trailer << /Root 1 0 R >>',
  '%%EOF',
  '',
].join('\n');

const TO = 'Me <me@example.com>';

/** Sent before Thunderbird starts; they land in `default`, Thunderbird's INBOX. */
export const INBOX_MESSAGES: readonly SendMailOptions[] = [
  {
    from: 'Acme Security <security@acme.test>',
    to: TO,
    subject: 'Your sign-in code is 482913',
    text: 'Hi,\n\nYour sign-in code is 482913. It expires in 10 minutes.\n\nIf you did not try to sign in, you can ignore this email.\n\n-- \nAcme Security\n',
  },
  {
    from: 'Acme Billing <billing@acme.test>',
    to: TO,
    subject: 'Invoice INV-2041 for December',
    text: 'Hello,\n\nPlease find attached invoice INV-2041 (EUR 49.00) for December.\n\nThank you for your business,\nAcme Billing\n',
    attachments: [{ filename: 'INV-2041.pdf', content: Buffer.from(INVOICE_PDF), contentType: 'application/pdf' }],
  },
  {
    from: 'Acme Team <team@acme.test>',
    to: TO,
    subject: 'Welcome to Acme, Me!',
    text: 'Welcome to Acme!\n\nYour workspace is ready. Invite your team: https://acme.test/invite\n',
    html: '<h2 style="font-family:sans-serif">Welcome to Acme!</h2><p style="font-family:sans-serif">Your workspace is ready. <a href="https://acme.test/invite">Invite your team</a>.</p>',
  },
  {
    from: 'Acme <no-reply@acme.test>',
    to: TO,
    subject: 'Confirm your account',
    text: 'Hi Me,\n\nPlease confirm your email address: https://acme.test/confirm?token=3f9c2a\n\nThanks,\nAcme\n',
    html: [
      '<div style="font-family:sans-serif;max-width:480px">',
      '<h2>Confirm your account</h2>',
      '<p>Hi Me,</p>',
      '<p>Thanks for signing up. Please confirm your email address to finish setting up your account.</p>',
      '<p><a href="https://acme.test/confirm?token=3f9c2a" style="display:inline-block;padding:10px 18px;background:#2563eb;color:#fff;text-decoration:none;border-radius:6px">Confirm my address</a></p>',
      '<p style="color:#666;font-size:13px">This link expires in 24 hours.</p>',
      '</div>',
    ].join(''),
  },
];

/** The route that makes the `billing` mailbox, a folder next to INBOX in Thunderbird. */
export const BILLING_ROUTE = '*@billing.test=billing';

/** Routed to `billing` by BILLING_ROUTE. */
export const BILLING_MESSAGES: readonly SendMailOptions[] = [
  {
    from: 'Acme Billing <billing@acme.test>',
    to: 'Finance <finance@billing.test>',
    subject: 'Payment received for INV-2041',
    text: 'Hello,\n\nWe received your payment of EUR 49.00 for invoice INV-2041. Thank you!\n\nAcme Billing\n',
  },
];

/** Sent while Thunderbird IDLEs in INBOX: it must show up without Thunderbird asking. */
export const LATE_MESSAGE: SendMailOptions = {
  from: 'Acme Shop <orders@acme.test>',
  to: TO,
  subject: 'Your order #1042 has shipped',
  text: 'Good news: your order #1042 is on its way. Track it at https://acme.test/orders/1042\n',
};
