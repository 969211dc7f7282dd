/**
 * What the screenshot script does in Thunderbird, as chrome-context scripts sent over Marionette.
 * They run in Thunderbird's main window (messenger.xhtml), where `Services`, `Ci` and
 * `MailServices` are in scope. Every wait polls Thunderbird's own state (folder counts, the
 * message pane's document, the settings form), never a fixed time.
 */
import type { MarionetteClient } from './marionette.js';

/** The main window, the one IMAP account (the profile's default) and the mail tab's 3-pane. */
const IN_MAIN_WINDOW = `
  const win = Services.wm.getMostRecentWindow('mail:3pane');
  const server = MailServices.accounts.defaultAccount.incomingServer;
  const about3Pane = win.gTabmail.tabInfo[0].chromeBrowser.contentWindow;
  const inbox = server.rootFolder.getFolderWithFlags(Ci.nsMsgFolderFlags.Inbox);
`;

/** Polls `probe` until it returns something other than undefined; fails naming `what` after the run's step timeout. */
export type WaitFor = <T>(what: string, probe: () => Promise<T | undefined>) => Promise<T>;

export class ThunderbirdDriver {
  constructor(
    private readonly marionette: MarionetteClient,
    private readonly waitFor: WaitFor,
  ) {}

  #run<T>(script: string, args: unknown[] = []): Promise<T> {
    return this.marionette.execute<T>(`${IN_MAIN_WINDOW}\n${script}`, args);
  }

  /** The window fills the Xvfb screen (there is no window manager to place it). */
  async fitWindow(width: number, height: number): Promise<void> {
    await this.marionette.send('WebDriver:SetWindowRect', { x: 0, y: 0, width, height });
  }

  /**
   * Trusts a certificate for 127.0.0.1:`port` (base64 DER), as a user does by confirming
   * Thunderbird's security exception for a self-signed certificate (Kotak's `--imap-tls auto`).
   */
  async trustCertificate(base64Der: string, port: number): Promise<void> {
    await this.#run(
      `const cert = Cc['@mozilla.org/security/x509certdb;1'].getService(Ci.nsIX509CertDB).constructX509FromBase64(arguments[0]);
       Cc['@mozilla.org/security/certoverride;1'].getService(Ci.nsICertOverrideService).rememberValidityOverride('127.0.0.1', arguments[1], {}, cert, false);`,
      [base64Der, port],
    );
  }

  /**
   * Gives the account its password (in memory only, never written to the profile), asks for
   * new mail (LOGIN, LIST, SELECT INBOX, FETCH), shows INBOX, and waits until its list has
   * `expected` rows.
   */
  async syncInbox(password: string, expected: number): Promise<void> {
    await this.#run(`server.password = arguments[0]; server.getNewMessages(server.rootFolder, win.msgWindow, null);`, [password]);
    await this.waitFor("Thunderbird's INBOX to appear", () => this.#run<boolean>('return inbox !== null || undefined;').then((found) => found ?? undefined));
    await this.#run('about3Pane.displayFolder(inbox.URI);');
    let rows = -1;
    await this.waitFor(`Thunderbird's INBOX to list ${expected} messages`, async () => {
      rows = await this.#run<number>('return about3Pane.gFolder === inbox && about3Pane.gDBView ? about3Pane.gDBView.rowCount : -1;');
      return rows === expected ? rows : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; it lists ${rows < 0 ? 'nothing' : rows}`);
    });
  }

  /** Waits until the folder `name` is listed under the account and Thunderbird counts `expected` messages in it. */
  async waitForFolder(name: string, expected: number): Promise<void> {
    const find = `const folder = server.rootFolder.subFolders.find((f) => f.name === arguments[0]) ?? null;`;
    await this.waitFor(`Thunderbird to list the folder ${name}`, () => this.#run<boolean>(`${find} return folder !== null || undefined;`, [name]).then((found) => found ?? undefined));
    // Only INBOX is asked for new mail; another folder is read when it is opened, or asked like this.
    await this.#run(`${find} folder.updateFolder(win.msgWindow);`, [name]);
    let total = 0;
    await this.waitFor(`Thunderbird's folder ${name} to hold ${expected} messages`, async () => {
      total = await this.#run<number>(`${find} return folder.getTotalMessages(false);`, [name]);
      return total === expected ? total : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; it holds ${total}`);
    });
  }

  /** A narrower folder pane and a wider message list, so senders and subjects are not cut short. */
  async arrangePanes(folderPaneWidth: number, messagePaneWidth: number): Promise<void> {
    await this.#run(
      `about3Pane.document.getElementById('folderPaneSplitter').width = arguments[0];
       about3Pane.document.getElementById('messagePaneSplitter').width = arguments[1];`,
      [folderPaneWidth, messagePaneWidth],
    );
  }

  /** Selects the message with `subject` in the list and waits until the message pane shows `text` from its body. */
  async openMessage(subject: string, text: string): Promise<void> {
    await this.#selectRow(subject);
    await this.waitFor(`the message pane to show "${subject}"`, async () => {
      const body = await this.#run<string>(
        `const pane = about3Pane.messageBrowser.contentWindow.getMessagePaneBrowser?.();
         const doc = pane?.contentDocument;
         return doc && doc.readyState === 'complete' ? doc.body?.textContent ?? '' : '';`,
      );
      return body.includes(text) ? true : undefined;
    });
  }

  /** Deletes the message with `subject` as a user would (the Delete command on the selection). */
  async deleteMessage(subject: string): Promise<void> {
    await this.#selectRow(subject);
    await this.#run(`win.goDoCommand('cmd_delete');`);
  }

  /** Adds a keyword to the INBOX message with `subject`, as Thunderbird's Tag menu does (`$label1` is its "Important"). */
  async tagMessage(subject: string, keyword: string): Promise<void> {
    await this.#run(`inbox.addKeywordsToMessages([about3Pane.gDBView.getMsgHdrAt(arguments[0])], arguments[1]);`, [await this.#requireRow(subject), keyword]);
  }

  /** Marks the INBOX message with `subject` read or unread, as Thunderbird's Mark menu does. */
  async markRead(subject: string, read: boolean): Promise<void> {
    await this.#run(`inbox.markMessagesRead([about3Pane.gDBView.getMsgHdrAt(arguments[0])], arguments[1]);`, [await this.#requireRow(subject), read]);
  }

  /** Moves the INBOX message with `subject` to the folder `name`, as dragging it there does. */
  async moveMessage(subject: string, name: string): Promise<void> {
    await this.#run(
      `const target = server.rootFolder.subFolders.find((f) => f.name === arguments[1]);
       MailServices.copy.copyMessages(inbox, [about3Pane.gDBView.getMsgHdrAt(arguments[0])], target, true, null, win.msgWindow, true);`,
      [await this.#requireRow(subject), name],
    );
  }

  /** Waits until Thunderbird shows the INBOX message with `subject` as read or unread (for a change made in Kotak). */
  async waitForRead(subject: string, read: boolean): Promise<void> {
    await this.waitFor(`Thunderbird to show "${subject}" ${read ? 'read' : 'unread'}`, async () => {
      const index = await this.#requireRow(subject);
      const isRead = await this.#run<boolean>('return about3Pane.gDBView.getMsgHdrAt(arguments[0]).isRead;', [index]);
      return isRead === read ? true : undefined;
    });
  }

  /** Waits until INBOX's list has a row with `subject` (for mail that arrives while Thunderbird idles). */
  async waitForRow(subject: string): Promise<void> {
    await this.waitFor(`Thunderbird's INBOX to list "${subject}"`, async () => ((await this.#rowOf(subject)) >= 0 ? true : undefined));
  }

  /**
   * Opens Account Settings on the account's Server Settings page and waits for its form to show
   * the server and `port`. Before that, the account gets Thunderbird's usual settings back
   * (check at startup and every 10 minutes), which the profile turned off only so that nothing
   * connected before the password was set.
   */
  async openServerSettings(port: number): Promise<void> {
    await this.#run(`server.loginAtStartUp = true; server.doBiff = true; win.MsgAccountManager('am-server.xhtml', server);`);
    await this.waitFor('Account Settings to show Server Settings', () =>
      this.#run<boolean>(
        `const page = win.gTabmail.currentTabInfo.browser?.contentDocument?.getElementById('contentFrame')?.contentDocument;
         return (page?.readyState === 'complete'
           && page.getElementById('server.hostname')?.value === '127.0.0.1'
           && page.getElementById('server.port')?.value === String(arguments[0])) || undefined;`,
        [port],
      ).then((ready) => ready ?? undefined),
    );
  }

  /** Closes the Account Settings tab, back to the mail tab. */
  async closeSettings(): Promise<void> {
    await this.#run(`win.gTabmail.closeTab(win.gTabmail.currentTabInfo); win.gTabmail.switchToTab(0);`);
  }

  /** The PNG of Thunderbird's window once its status bar says it is done (no progress bar, no activity). */
  async screenshot(): Promise<Buffer> {
    await this.waitFor("Thunderbird's status bar to settle", () =>
      this.#run<boolean>(
        `return (win.document.getElementById('statusbar-progresspanel').hidden && !win.MsgStatusFeedback._meteorsSpinning) || undefined;`,
      ).then((idle) => idle ?? undefined),
    );
    const shot = (await this.marionette.send('WebDriver:TakeScreenshot', { full: false, hash: false })) as { value: string };
    return Buffer.from(shot.value, 'base64');
  }

  /** The errors on Thunderbird's Error Console (script errors, and any message that mentions IMAP), as text. */
  consoleErrors(): Promise<string[]> {
    return this.#run<string[]>(
      `return Services.console.getMessageArray().flatMap((m) => {
         if (m instanceof Ci.nsIScriptError) return m.flags & Ci.nsIScriptError.warningFlag ? [] : [m.errorMessage + ' (' + m.sourceName + ':' + m.lineNumber + ')'];
         return /imap/i.test(m.message) ? [m.message] : [];
       });`,
    );
  }

  /** Asks Thunderbird to quit (its logs flushed, its IMAP connections logged out). */
  async quit(): Promise<void> {
    await this.marionette.send('Marionette:Quit', { flags: ['eForceQuit'] });
  }

  async #selectRow(subject: string): Promise<void> {
    await this.#run('about3Pane.threadTree.selectedIndex = arguments[0];', [await this.#requireRow(subject)]);
  }

  async #requireRow(subject: string): Promise<number> {
    const index = await this.#rowOf(subject);
    if (index < 0) throw new Error(`Thunderbird's INBOX has no message "${subject}"`);
    return index;
  }

  #rowOf(subject: string): Promise<number> {
    return this.#run<number>(
      `const view = about3Pane.gDBView;
       for (let i = 0; view && i < view.rowCount; i++) if (view.getMsgHdrAt(i).mime2DecodedSubject === arguments[0]) return i;
       return -1;`,
      [subject],
    );
  }
}
