/**
 * Downloading one file with Node's http/https: follows redirects, streams to a temporary file beside the target while
 * hashing, then verifies sha256 and renames (so the target is either the whole verified file or absent).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected sha256 (hex); null = not known, the computed hash is returned unverified. */
  sha256: string | null;
  maxRedirects?: number;
  /** Abort when the connection is idle this long (default 60 s). */
  timeoutMs?: number;
  /** Called as bytes arrive; total is the Content-Length when the server sends one. */
  onProgress?: (received: number, total: number | null) => void;
}

export interface DownloadResult {
  file: string;
  bytes: number;
  sha256: string;
  /** True when an expected hash was given and matched. */
  verified: boolean;
  /** The URL the bytes finally came from, after redirects. */
  finalUrl: string;
  redirects: number;
}

/** sha256 (hex) of a file on disk. */
export function sha256File(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GET one URL; resolves with the response once headers arrive (the caller consumes or discards the body). */
function get(url: URL, timeoutMs: number): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
  if (!lib) return Promise.reject(new Error(`download: unsupported protocol '${url.protocol}' in ${url.href}`));
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers: { 'user-agent': 'bonelab-datasets' } }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`download: no data from ${url.href} for ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new Error(`download: ${url.href}: ${e.message}`)));
  });
}

/** Download `url` to `dest`, verifying sha256 when known. A mismatch removes the download and throws. */
export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  if (opts.sha256 !== null && !/^[0-9a-f]{64}$/.test(opts.sha256)) {
    throw new Error(`download: sha256 must be 64 lowercase hex digits, got '${opts.sha256}'`);
  }
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new Error(`download: not a valid URL: '${opts.url}'`);
  }
  const maxRedirects = opts.maxRedirects ?? 10;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let redirects = 0;
  let res = await get(url, timeoutMs);
  while (REDIRECTS.has(res.statusCode ?? 0)) {
    const loc = res.headers.location;
    res.resume();
    if (!loc) throw new Error(`download: HTTP ${res.statusCode} from ${url.href} without a Location header`);
    if (++redirects > maxRedirects) throw new Error(`download: more than ${maxRedirects} redirects, last to ${loc}`);
    url = new URL(loc, url);
    res = await get(url, timeoutMs);
  }
  if (res.statusCode !== 200) {
    res.resume();
    throw new Error(`download: HTTP ${res.statusCode} ${res.statusMessage ?? ''} for ${url.href}`.trimEnd());
  }
  const lenHeader = res.headers['content-length'];
  const total = lenHeader !== undefined && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;
  fs.mkdirSync(path.dirname(path.resolve(opts.dest)), { recursive: true });
  const tmp = `${opts.dest}.part-${process.pid}-${Date.now()}`;
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const out = fs.createWriteStream(tmp);
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
        opts.onProgress?.(bytes, total);
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`download: connection closed early by ${url.href}`)));
      out.on('error', reject);
      out.on('finish', resolve);
      res.pipe(out);
    });
    if (total !== null && bytes !== total) throw new Error(`download: got ${bytes} bytes from ${url.href}, expected ${total}`);
    const got = hash.digest('hex');
    if (opts.sha256 !== null && got !== opts.sha256) {
      throw new Error(`download: sha256 mismatch for ${path.basename(opts.dest)}: expected ${opts.sha256}, got ${got} (download removed)`);
    }
    fs.renameSync(tmp, opts.dest);
    return { file: opts.dest, bytes, sha256: got, verified: opts.sha256 !== null, finalUrl: url.href, redirects };
  } finally {
    if (fs.existsSync(tmp)) fs.unlinkSync(tmp);
  }
}
