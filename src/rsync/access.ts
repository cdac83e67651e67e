// SPDX-License-Identifier: MIT
// `hosts allow` / `hosts deny` for a module, as rsync's access.c allow_access decides:
// an allow-list match admits; an allow list without a deny list refuses everything
// else; a deny-list match refuses; anything else is admitted. Tokens are split on
// spaces, commas and tabs and lower-cased. A token is an address (IPv4, IPv6, with
// /BITS or /NETMASK), or a host-name pattern matched case-insensitively against the
// client's name, which is "UNDETERMINED" when `reverse lookup = no` (so `*` still
// matches every client, as in rsync). With `forward lookup = yes` a plain host-name
// token is also resolved and compared with the client's address; a deny token that
// does not resolve counts as a match (fails closed, as rsync 3.5 does).
// compat: @netgroup tokens are not supported (Node has no innetgr); they never match.
import ipaddr from 'ipaddr.js';
import { wildmatch } from './wildmatch.js';

export const UNDETERMINED = 'UNDETERMINED';

export interface AccessLists {
  allow: string;
  deny: string;
  forwardLookup: boolean;
}

export interface AccessResult {
  allowed: boolean;
  /** The client's name, possibly replaced by a matching forward-resolved token (access.c match_hostname). */
  host: string;
}

/** Resolves a host name to its addresses (dns.lookup in production, a table in tests). */
export type Resolver = (name: string) => Promise<string[]>;

/** IPv4-mapped IPv6 addresses are shown and matched as IPv4, as rsync's client_addr does. */
export function normalizeAddr(addr: string): string {
  try {
    const a = ipaddr.parse(addr.replace(/%.*$/, ''));
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) return (a as ipaddr.IPv6).toIPv4Address().toString();
  } catch { /* not an address: leave it */ }
  return addr;
}

/** access.c match_address. */
export function matchAddress(addr: string, token: string): boolean {
  if (!addr) return false;
  const slash = token.indexOf('/');
  const host = slash < 0 ? token : token.slice(0, slash);
  const maskText = slash < 0 ? undefined : token.slice(slash + 1);
  // A host name, not an address: quietly no match.
  if (!/^[.0-9]*$/.test(host) && !host.includes(':')) return false;
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  let t: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(normalizeAddr(addr));
    t = ipaddr.parse(host);
  } catch {
    return false;
  }
  if (a.kind() !== t.kind()) return false;
  const width = a.kind() === 'ipv4' ? 32 : 128;
  let bits = width;
  if (maskText !== undefined) {
    // inet_pton: a dotted quad or an IPv6 text; a bare number is a prefix length.
    if ((/^\d+\.\d+\.\d+\.\d+$/.test(maskText) || maskText.includes(':')) && ipaddr.isValid(maskText)) {
      const m = ipaddr.parse(maskText);
      if (m.kind() !== a.kind()) return false;
      return maskedEqual(a.toByteArray(), t.toByteArray(), m.toByteArray());
    }
    if (!/^\d+$/.test(maskText)) return false; // access.c: "malformed mask"
    bits = Number(maskText);
    if (bits === 0) return true;
    if (bits > width) return false;
  }
  return maskedEqual(a.toByteArray(), t.toByteArray(), prefixMask(bits, width / 8));
}

function prefixMask(bits: number, len: number): number[] {
  const m: number[] = [];
  for (let i = 0; i < len; i++) {
    const b = Math.max(0, Math.min(8, bits - i * 8));
    m.push((0xff << (8 - b)) & 0xff);
  }
  return m;
}

function maskedEqual(a: number[], b: number[], mask: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (((a[i]! ^ b[i]!) & (mask[i] ?? 0)) !== 0) return false;
  return true;
}

export function splitHostList(list: string): string[] {
  return list.toLowerCase().split(/[ ,\t]+/).filter((x) => x !== '');
}

async function matchHostname(state: { host: string }, addr: string, token: string, deny: boolean, forward: boolean, resolve: Resolver | undefined): Promise<boolean> {
  if (!state.host) return false;
  if (token.startsWith('@')) return false;
  if (wildmatch(token, state.host.toLowerCase())) return true; // tokens are lower-cased already
  if (!forward || !resolve) return false;
  // An address or a pattern is no name to resolve.
  if (/^[.0-9]*$/.test(token) || /[:/*?[]/.test(token)) return false;
  let addrs: string[];
  try {
    addrs = await resolve(token);
  } catch {
    return deny;
  }
  const ours = normalizeAddr(addr);
  if (addrs.some((x) => normalizeAddr(x) === ours)) {
    if (state.host === UNDETERMINED) state.host = token;
    return true;
  }
  return false;
}

async function accessMatch(list: string, addr: string, state: { host: string }, deny: boolean, forward: boolean, resolve: Resolver | undefined): Promise<boolean> {
  for (const tok of splitHostList(list)) {
    if (await matchHostname(state, addr, tok, deny, forward, resolve)) return true;
    if (matchAddress(addr, tok)) return true;
  }
  return false;
}

/** access.c allow_access. */
export async function allowAccess(addr: string, host: string, lists: AccessLists, resolve?: Resolver): Promise<AccessResult> {
  const state = { host };
  const allow = lists.allow.trim();
  const deny = lists.deny.trim();
  if (allow) {
    if (await accessMatch(allow, addr, state, false, lists.forwardLookup, resolve)) return { allowed: true, host: state.host };
    if (!deny) return { allowed: false, host: state.host };
  }
  if (deny && await accessMatch(deny, addr, state, true, lists.forwardLookup, resolve)) return { allowed: false, host: state.host };
  return { allowed: true, host: state.host };
}
