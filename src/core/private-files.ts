import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/*
 * Files only the account running Gatehouse may read: the data directory is 0700 and what is
 * in it 0600 (OWASP ASVS V14.2: protect stored secrets from other local users). Modes are
 * given at creation, so a file is never readable by others even for an instant; the process
 * umask can only take bits away.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `path` (and missing parents) as 0700 directories. An existing directory is left as
 * it is (`doctor` reports a loose one). Returns whether it created `path`.
 */
export function ensurePrivateDir(path: string): boolean {
  return mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE }) !== undefined;
}

/**
 * Writes `data` to `path` as a 0600 file, atomically: readers see the old content or the new,
 * never part of it, and a crash leaves no half-written file. The directory is created 0700
 * when missing.
 */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  ensurePrivateDir(dirname(path));
  const temporary = writeTemporary(path, data);
  try {
    renameSync(temporary, path);
  } catch (error) {
    unlinkQuietly(temporary);
    throw error;
  }
}

/**
 * Writes `data` to `path` as a 0600 file only if `path` does not exist, atomically and safely
 * when several processes try at once: exactly one succeeds. Returns whether this call wrote it.
 */
export function createPrivateFileIfAbsent(path: string, data: string | Uint8Array): boolean {
  ensurePrivateDir(dirname(path));
  const temporary = writeTemporary(path, data);
  try {
    linkSync(temporary, path); // fails with EEXIST when another writer got there first
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  } finally {
    unlinkQuietly(temporary);
  }
}

/** Creates an empty 0600 file at `path` unless it exists (e.g. before a database library opens it). */
export function touchPrivateFile(path: string): boolean {
  try {
    closeSync(openSync(path, "wx", PRIVATE_FILE_MODE));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/**
 * The permission bits of `path` that give its group or others any access, or undefined when
 * there are none, the path does not exist, or the platform has no POSIX modes (Windows).
 */
export function looseModeOf(path: string): number | undefined {
  if (process.platform === "win32") return undefined;
  try {
    const mode = statSync(path).mode & 0o777;
    return (mode & 0o077) === 0 ? undefined : mode;
  } catch {
    return undefined;
  }
}

function writeTemporary(path: string, data: string | Uint8Array): string {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(temporary, "wx", PRIVATE_FILE_MODE);
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkQuietly(temporary);
    throw error;
  }
  closeSync(fd);
  return temporary;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone; nothing to clean up.
  }
}
