import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { PayloadSealer } from "../outbox/outbox.ts";

/**
 * AES-256-GCM over outbox payloads holding a link, the context as additional data so a sealed
 * payload cannot be moved to another row. Used only until the key-encryption key's SecretBox
 * is wired in; its key then no longer lives beside the data.
 */
export function createInterimSealer(key: Buffer): PayloadSealer {
  if (key.length !== 32) throw new Error("the sealing key must be 32 bytes");
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `ghmail1.${iv.toString("base64url")}.${body.toString("base64url")}`;
    },
    open(sealed, context) {
      const [format, iv, body] = sealed.split(".");
      if (format !== "ghmail1" || iv === undefined || body === undefined) throw new Error("not a sealed payload");
      const bytes = Buffer.from(body, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
    },
  };
}
