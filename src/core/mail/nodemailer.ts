import type NodemailerModule from "nodemailer";

let loading: Promise<typeof NodemailerModule> | undefined;

/**
 * nodemailer, loaded when the first mail is built: it adds about 3 MB to the heap, which a
 * server that never sends mail should not carry (a bigger heap makes every full collection longer).
 */
export function loadNodemailer(): Promise<typeof NodemailerModule> {
  loading ??= import("nodemailer").then((module) => module.default);
  return loading;
}
