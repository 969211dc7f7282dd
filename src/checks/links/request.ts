/**
 * One HTTP request of the link check, to an address already vetted: the socket goes to that exact
 * IP (no second DNS lookup that could answer differently), the Host header and the TLS server name
 * are the URL's host, so virtual hosts and certificates work as for any client. No cookies, no
 * connection reuse, and at most `maxBodyBytes` of a body read, then the connection is dropped.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';

export type HttpMethod = 'HEAD' | 'GET';

export interface HopRequest {
  readonly url: URL;
  /** The vetted IP address to connect to. */
  readonly address: string;
  readonly method: HttpMethod;
  readonly signal: AbortSignal;
  readonly userAgent: string;
  readonly maxBodyBytes: number;
}

export interface HopResponse {
  readonly status: number;
  readonly location: string | null;
  /** Bytes of the body read (never more than maxBodyBytes; never kept). */
  readonly bodyBytes: number;
}

/** The URL's host without IPv6 brackets, as TLS and the address check want it. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

export function requestHop(hop: HopRequest): Promise<HopResponse> {
  const { url, method } = hop;
  const secure = url.protocol === 'https:';
  const hostname = bareHostname(url);
  return new Promise((resolve, reject) => {
    let settled = false;
    const request = (secure ? https : http).request({
      method,
      host: hop.address,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      // Host as the URL has it (port only when not the default); nothing else that identifies a user.
      headers: { Host: url.host, 'User-Agent': hop.userAgent, Accept: '*/*', Connection: 'close' },
      // A fresh connection each time: nothing pooled, so nothing from another check is reused.
      agent: false,
      signal: hop.signal,
      // SNI and certificate checks against the name in the link (an IP literal has no SNI).
      ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
    });
    const finish = (result: HopResponse) => {
      if (settled) return;
      settled = true;
      resolve(result);
      // The rest of the body is never read: the connection goes.
      request.destroy();
    };
    request.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const location = typeof response.headers.location === 'string' ? response.headers.location : null;
      if (method === 'HEAD') {
        finish({ status, location, bodyBytes: 0 });
        return;
      }
      let bodyBytes = 0;
      response.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
        if (bodyBytes >= hop.maxBodyBytes) finish({ status, location, bodyBytes: hop.maxBodyBytes });
      });
      response.on('end', () => finish({ status, location, bodyBytes }));
      // A server that ends the connection mid-body still answered with its status.
      response.on('aborted', () => finish({ status, location, bodyBytes }));
      response.on('error', () => finish({ status, location, bodyBytes }));
    });
    request.end();
  });
}
