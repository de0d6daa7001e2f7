import { type AddressInfo, createServer as createNetServer } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  parsed: ParsedMail;
  /** The message as it arrived (headers and MIME parts). */
  raw: string;
  /** Envelope recipients. */
  rcptTo: string[];
  /** The SMTP AUTH user, if the client logged in. */
  user: string | undefined;
}

export interface TestSmtpServer {
  port: number;
  /** smtp://user:pass@127.0.0.1:port */
  url: string;
  received: ReceivedMail[];
  /** Waits until `count` mails matching `filter` arrived (default 10 s), and returns them. */
  waitFor(filter: (mail: ReceivedMail) => boolean, count?: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Stops listening (the port stays reserved for `start`). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export const SMTP_USER = "mailer";
export const SMTP_PASSWORD = "smtp-password-9f3b2a";

/** A free port on 127.0.0.1, so the server can be stopped and started again on the same one. */
async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that requires the test credentials and parses
 * every message it accepts with mailparser.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const port = await freePort();
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let server: SMTPServer | undefined;

  const make = () =>
    new SMTPServer({
      // Plain SMTP on loopback: no certificate to trust in tests.
      disabledCommands: ["STARTTLS"],
      allowInsecureAuth: true,
      authMethods: ["PLAIN", "LOGIN"],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: auth.username });
        else callback(new Error("Invalid username or password"));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          simpleParser(raw)
            .then((parsed) => {
              received.push({
                parsed,
                raw,
                rcptTo: session.envelope.rcptTo.map((r) => r.address),
                user: session.user as string | undefined,
              });
              for (const wake of waiters) wake();
              callback();
            })
            .catch((error: Error) => callback(error));
        });
      },
    });

  const start = async () => {
    server = make();
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(port, "127.0.0.1", () => resolve());
    });
  };
  await start();

  return {
    port,
    url: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${port}`,
    received,
    async waitFor(filter, count = 1, timeoutMs = 10_000) {
      const matching = () => received.filter(filter);
      if (matching().length >= count) return matching();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} mail(s), got ${matching().length} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (matching().length >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(matching());
          }
        };
        waiters.add(check);
      });
    },
    stop: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
    start,
  };
}

/** Mails to one address. */
export const to = (address: string) => (mail: ReceivedMail) =>
  mail.rcptTo.some((r) => r.toLowerCase() === address.toLowerCase());

/** The token of the `#verify=` or `#reset=` link in a mail's text part. */
export function linkToken(mail: ReceivedMail, kind: "verify" | "reset"): string {
  const match = new RegExp(`#${kind}=([A-Za-z0-9_-]+)`).exec(mail.parsed.text ?? "");
  if (!match) throw new Error(`no #${kind}= link in the mail`);
  return match[1]!;
}
