/**
 * A throwaway Thunderbird profile: one IMAP account on a Kotak, one SMTP server into it, and the
 * prefs that keep Thunderbird on loopback and out of its first-run screens.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ProfileAccount {
  readonly imapPort: number;
  readonly smtpPort: number;
  readonly userName: string;
  readonly email: string;
  readonly fullName: string;
  /** What the account is called in Thunderbird's folder pane and account settings. */
  readonly accountName: string;
  /** Connection security: none, or STARTTLS (Kotak's `--imap-tls`). */
  readonly security?: 'none' | 'starttls';
}

type PrefValue = string | number | boolean;

/** Nothing Thunderbird does on its own may reach past 127.0.0.1. */
const OFFLINE_PREFS: Readonly<Record<string, PrefValue>> = {
  // Updates of the application, of add-ons and of system add-ons.
  'app.update.auto': false,
  'app.update.checkInstallTime': false,
  'app.update.disabledForTesting': true,
  'extensions.update.enabled': false,
  'extensions.update.autoUpdateDefault': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'lightweightThemes.update.enabled': false,
  'app.normandy.enabled': false,
  // Telemetry and data reporting.
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': 'http://127.0.0.1:9/',
  'toolkit.telemetry.newProfilePing.enabled': false,
  'toolkit.telemetry.shutdownPingSender.enabled': false,
  'toolkit.telemetry.firstShutdownPing.enabled': false,
  'toolkit.telemetry.updatePing.enabled': false,
  'toolkit.telemetry.bhrPing.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.policy.dataSubmissionPolicyBypassNotification': true,
  // Background connections: captive portal, connectivity, safe browsing, prefetching, push.
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'dom.push.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'geo.enabled': false,
  // Account setup (its wizard opens only in a profile without an account, unlike this one): no
  // ISP lookups, no guessing of servers, no provider sign-up.
  'mailnews.auto_config.fetchFromISP.enabled': false,
  'mailnews.auto_config.fetchFromExchange.enabled': false,
  'mailnews.auto_config.guess.enabled': false,
  'mailnews.auto_config_url': '',
  'mailnews.auto_config.addons_url': '',
  'mail.provider.enabled': false,
  // Messages: no remote images.
  'mailnews.message_display.disable_remote_image': true,
  // First-run pages, the "set as default" prompt, the rights notice, the start page.
  'mailnews.start_page.enabled': false,
  'mailnews.start_page.url': 'about:blank',
  'mailnews.start_page.override_url': 'about:blank',
  'mail.shell.checkDefaultClient': false,
  'mail.rights.version': 1,
  'browser.aboutConfig.showWarning': false,
  // Filelink (uploads of attachments to cloud storage) and chat: off; no chat account connects at startup.
  'mail.cloud_files.enabled': false,
  'mail.chat.enabled': false,
  'messenger.startup.action': 0,
  // A message deleted in Thunderbird is expunged at once (UID EXPUNGE), so it leaves Kotak's inbox
  // too; by default Thunderbird only marks it \Deleted and expunges later (Compact Folders).
  'mail.imap.expunge_after_delete': true,
  // New-mail notifications would pop over the screenshots.
  'mail.biff.show_alert': false,
  'mail.biff.play_sound': false,
  'mail.biff.show_tray_icon': false,
  'mail.biff.use_system_alert': false,
};

/** The IMAP account (server1), Local Folders (server2) and the SMTP server, as prefs.js writes them. */
function accountPrefs(account: ProfileAccount): Record<string, PrefValue> {
  return {
    'mail.accountmanager.accounts': 'account1,account2',
    'mail.accountmanager.defaultaccount': 'account1',
    'mail.accountmanager.localfoldersserver': 'server2',
    'mail.account.account1.identities': 'id1',
    'mail.account.account1.server': 'server1',
    'mail.account.account2.server': 'server2',
    'mail.identity.id1.fullName': account.fullName,
    'mail.identity.id1.useremail': account.email,
    'mail.identity.id1.smtpServer': 'smtp1',
    'mail.identity.id1.valid': true,
    'mail.server.server1.type': 'imap',
    'mail.server.server1.name': account.accountName,
    'mail.server.server1.hostname': '127.0.0.1',
    'mail.server.server1.port': account.imapPort,
    'mail.server.server1.userName': account.userName,
    // 0: no TLS ("None"), 2: STARTTLS; 3: a password sent as it is ("Normal password").
    'mail.server.server1.socketType': account.security === 'starttls' ? 2 : 0,
    'mail.server.server1.authMethod': 3,
    // "When I delete a message: Remove it immediately" (2): STORE \Deleted (then UID EXPUNGE, by
    // mail.imap.expunge_after_delete).
    // Thunderbird's default moves it to Trash, which Kotak cannot create (CREATE is refused:
    // mailboxes come from routing), and then it only marks the message \Deleted.
    'mail.server.server1.delete_model': 2,
    'mail.server.server1.directory-rel': '[ProfD]ImapMail/kotak',
    // Not at startup: the script connects once it has given the account its password (in memory;
    // none is stored), and turns these back on before the Server Settings screenshot.
    'mail.server.server1.login_at_startup': false,
    'mail.server.server1.check_new_mail': false,
    'mail.server.server2.type': 'none',
    'mail.server.server2.name': 'Local Folders',
    'mail.server.server2.hostname': 'Local Folders',
    'mail.server.server2.userName': 'nobody',
    'mail.server.server2.directory-rel': '[ProfD]Mail/Local Folders',
    'mail.smtpservers': 'smtp1',
    'mail.smtp.defaultserver': 'smtp1',
    'mail.smtpserver.smtp1.hostname': '127.0.0.1',
    'mail.smtpserver.smtp1.port': account.smtpPort,
    'mail.smtpserver.smtp1.description': account.accountName,
    'mail.smtpserver.smtp1.try_ssl': 0,
    // 1: no authentication.
    'mail.smtpserver.smtp1.authMethod': 1,
  };
}

function prefLine(name: string, value: PrefValue): string {
  return `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`;
}

/**
 * Writes user.js into `dir` (an empty directory Thunderbird then uses as its profile).
 * `marionettePort` 0 lets Marionette pick a port and write it to `MarionetteActivePort`.
 */
export async function writeProfile(dir: string, account: ProfileAccount, marionettePort = 0): Promise<void> {
  const prefs = { ...OFFLINE_PREFS, ...accountPrefs(account), 'marionette.port': marionettePort };
  const lines = Object.entries(prefs).map(([name, value]) => prefLine(name, value));
  await writeFile(path.join(dir, 'user.js'), `${lines.join('\n')}\n`);
}
