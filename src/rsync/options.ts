// SPDX-License-Identifier: MIT
// The server side of rsync's command line: the argument vector a client sends to a
// daemon after "@RSYNCD: OK" (or passes to `rsync --server` over a remote shell),
// parsed into one options object, plus the `refuse options` rules of rsyncd.conf.
// Mirrors options.c: parse_arguments (popt table long_options), set_refuse_options,
// parse_one_refuse_match, create_refuse_error and option_error. Pure: no I/O.
//
// compat: the option table lists every option rsync 3.5.0 knows, so that an option we
// do not implement is recognised (and refused by the server with rsync's words) rather
// than reported as unknown.
import { wildmatch } from './wildmatch.js';

/** One row of the option table: long name (may be empty), short letter (may be empty), takes a value. */
interface Spec { long: string; short: string; arg: boolean; exact: boolean }

// options.c: long_options — name:short:kind, kind s = takes a value, n = none.
// Entries with an empty name are short-only (-D, -F, -P).
const TABLE = `help::n version:V:n verbose:v:n no-verbose::n no-v::n info::s debug::s stderr::s
msgs2stderr::n no-msgs2stderr::n quiet:q:n motd::n no-motd::n stats::n human-readable:h:n
no-human-readable::n no-h::n dry-run:n:n archive:a:n recursive:r:n no-recursive::n no-r::n
inc-recursive::n no-inc-recursive::n i-r::n no-i-r::n dirs:d:n no-dirs::n no-d::n old-dirs::n
old-d::n perms:p:n no-perms::n no-p::n executability:E:n acls:A:n no-acls::n no-A::n xattrs:X:n
no-xattrs::n no-X::n times:t:n no-times::n no-t::n atimes:U:n no-atimes::n no-U::n
open-noatime::n no-open-noatime::n crtimes:N:n no-crtimes::n no-N::n omit-dir-times:O:n
no-omit-dir-times::n no-O::n omit-link-times:J:n no-omit-link-times::n no-J::n modify-window:@:s
super::n no-super::n fake-super::n owner:o:n no-owner::n no-o::n group:g:n no-group::n no-g::n
:D:n no-D::n devices::n no-devices::n copy-devices::n write-devices::n no-write-devices::n
specials::n no-specials::n drop-D::n no-drop-D::n confine-root::s links:l:n no-links::n no-l::n
copy-links:L:n copy-unsafe-links::n safe-links::n insecure-links::n no-insecure-links::n
munge-links::n no-munge-links::n copy-dirlinks:k:n keep-dirlinks:K:n hard-links:H:n
no-hard-links::n no-H::n relative:R:n no-relative::n no-R::n implied-dirs::n no-implied-dirs::n
i-d::n no-i-d::n chmod::s ignore-times:I:n size-only::n one-file-system:x:n
no-one-file-system::n no-x::n update:u:n existing::n ignore-non-existing::n ignore-existing::n
max-size::s min-size::s max-alloc::s sparse:S:n no-sparse::n no-S::n preallocate::n inplace::n
no-inplace::n append::n append-verify::n no-append::n del::n delete::n delete-before::n
delete-during::n delete-delay::n delete-after::n delete-excluded::n delete-missing-args::n
ignore-missing-args::n remove-sent-files::n remove-source-files::n force::n no-force::n
ignore-errors::n no-ignore-errors::n max-delete::s filter:f:s :F:n exclude::s include::s
exclude-from::s include-from::s cvs-exclude:C:n whole-file:W:n no-whole-file::n no-W::n
checksum:c:n no-checksum::n no-c::n checksum-choice::s cc::s block-size:B:s compare-dest::s
copy-dest::s link-dest::s fuzzy:y:n no-fuzzy::n no-y::n compress:z:n old-compress::n
new-compress::n no-compress::n no-z::n compress-choice::s zc::s skip-compress::s
compress-level::s zl::s compress-threads::s zt::s :P:n progress::n no-progress::n partial::n
no-partial::n partial-dir::s delay-updates::n no-delay-updates::n prune-empty-dirs:m:n
no-prune-empty-dirs::n no-m::n log-file::s log-file-format::s out-format::s log-format::s
itemize-changes:i:n no-itemize-changes::n no-i::n bwlimit::s no-bwlimit::n backup:b:n
no-backup::n backup-dir::s suffix::s list-only::n read-batch::s write-batch::s
only-write-batch::s files-from::s from0:0:n no-from0::n old-args::n no-old-args::n
secluded-args:s:n no-secluded-args::n protect-args::n no-protect-args::n no-s::n trust-sender::n
numeric-ids::n no-numeric-ids::n usermap::s groupmap::s chown::s timeout::s no-timeout::n
contimeout::s no-contimeout::n fsync::n stop-after::s time-limit::s stop-at::s rsh:e:s
rsync-path::s temp-dir:T:s iconv::s no-iconv::n ipv4:4:n ipv6:6:n 8-bit-output:8:n
no-8-bit-output::n no-8::n mkpath::n no-mkpath::n qsort::n copy-as::s address::s port::s
sockopts::s password-file::s early-input::s blocking-io::n no-blocking-io::n outbuf::s
remote-option:M:s protocol::s checksum-seed::s server::n sender::n config::s daemon::n dparam::s
detach::n no-detach::n`;

// set_refuse_options: these match a refuse rule only by their exact name, never by a wildcard.
const EXACT_ONLY = new Set(['e', '0', 's', 'n', 'iconv', 'no-iconv', 'checksum-seed', 'copy-devices', 'write-devices', 'log-format', 'sender', 'server']);

const SPECS: Spec[] = TABLE.split(/\s+/).filter(Boolean).map((row) => {
  const [long = '', short = '', kind] = row.split(':');
  return { long, short, arg: kind === 's', exact: EXACT_ONLY.has(short) || EXACT_ONLY.has(long) };
});
const BY_LONG = new Map(SPECS.filter((s) => s.long).map((s) => [s.long, s]));
const BY_SHORT = new Map(SPECS.filter((s) => s.short).map((s) => [s.short, s]));

/** What the server needs to know from the client's arguments. */
export interface ServerOptions {
  /** --server was given (always, from a real client). */
  server: boolean;
  /** --sender: the server sends (the client pulls). */
  sender: boolean;
  verbose: number;
  quiet: boolean;
  dryRun: boolean;
  /** -r given (rsync's recurse). */
  recursive: boolean;
  /** -d given (rsync's xfer_dirs without recursion). */
  dirs: boolean;
  links: boolean;
  copyLinks: boolean;
  copyUnsafeLinks: boolean;
  safeLinks: boolean;
  copyDirlinks: boolean;
  keepDirlinks: boolean;
  hardLinks: boolean;
  perms: boolean;
  executability: boolean;
  times: boolean;
  atimes: boolean;
  crtimes: boolean;
  owner: boolean;
  group: boolean;
  devices: boolean;
  specials: boolean;
  acls: boolean;
  xattrs: boolean;
  relative: boolean;
  impliedDirs: boolean;
  oneFileSystem: boolean;
  /** -c: per-file checksums in the file list. */
  checksum: boolean;
  /** -W given (true), --no-whole-file (false), or neither. */
  wholeFile: boolean | undefined;
  ignoreTimes: boolean;
  sizeOnly: boolean;
  numericIds: boolean;
  inplace: boolean;
  append: boolean;
  /** Any --delete* or --del option. */
  delete: boolean;
  deleteExcluded: boolean;
  pruneEmptyDirs: boolean;
  cvsExclude: boolean;
  compress: boolean;
  compressChoice: string | undefined;
  checksumChoice: string | undefined;
  checksumSeed: number | undefined;
  blockSize: number | undefined;
  filesFrom: string | undefined;
  from0: boolean;
  secludedArgs: boolean;
  iconv: string | undefined;
  listOnly: boolean;
  removeSourceFiles: boolean;
  ignoreErrors: boolean;
  timeout: number | undefined;
  bwlimit: string | undefined;
  /** The value of -e: rsync's capability string (".iLsfxCIvu"). */
  capabilities: string | undefined;
  /** Long names (or the letter, for short-only options) of every option seen, in order. */
  seen: string[];
  /** Operands: the first is "." (the start directory), then the source paths. */
  operands: string[];
}

export function defaultOptions(): ServerOptions {
  return {
    server: false, sender: false, verbose: 0, quiet: false, dryRun: false, recursive: false, dirs: false,
    links: false, copyLinks: false, copyUnsafeLinks: false, safeLinks: false, copyDirlinks: false,
    keepDirlinks: false, hardLinks: false, perms: false, executability: false, times: false, atimes: false,
    crtimes: false, owner: false, group: false, devices: false, specials: false, acls: false, xattrs: false,
    relative: false, impliedDirs: true, oneFileSystem: false, checksum: false, wholeFile: undefined,
    ignoreTimes: false, sizeOnly: false, numericIds: false, inplace: false, append: false, delete: false,
    deleteExcluded: false, pruneEmptyDirs: false, cvsExclude: false, compress: false, compressChoice: undefined,
    checksumChoice: undefined, checksumSeed: undefined, blockSize: undefined, filesFrom: undefined, from0: false,
    secludedArgs: false, iconv: undefined, listOnly: false, removeSourceFiles: false, ignoreErrors: false,
    timeout: undefined, bwlimit: undefined, capabilities: undefined, seen: [], operands: [],
  };
}

/** A parse failure or a refusal; `message` is the text rsync sends, without "rsync: " and newline. */
export class OptionError extends Error {
  constructor(message: string, readonly refused = false) {
    super(message);
    this.name = 'OptionError';
  }
}

/** The refusal rules of one module: `refuse options` compiled against the option table. */
export class RefuseRules {
  private readonly refused = new Set<Spec>();

  /** set_refuse_options: `spec` is the module's `refuse options` value (space-separated, `!` negates). */
  constructor(spec: string) {
    // A daemon refuses these unless a negated exact rule accepts them.
    this.apply(false, 'copy-devices');
    this.apply(false, 'write-devices');
    for (const word of spec.split(' ').filter(Boolean)) {
      const negated = word.startsWith('!') && word.length > 1;
      this.apply(negated, negated ? word.slice(1) : word);
    }
    // The daemon always refuses these (options.c: set_refuse_options, am_daemon branch).
    this.apply(false, 'log-file*');
    this.apply(false, 'insecure-links');
  }

  // parse_one_refuse_match: a wildcard rule marks every wild-card-able match; an exact
  // rule marks the first match, exact-only options included.
  private apply(negated: boolean, ref: string): void {
    let isWild = /[*?[]/.test(ref);
    if (ref === 'a' || ref === 'archive') {
      ref = '[ardlptgoD]';
      isWild = true;
    }
    for (const s of SPECS) {
      if (!((s.long && wildmatch(ref, s.long)) || (s.short && wildmatch(ref, s.short)))) continue;
      if (isWild && s.exact) continue;
      if (negated) this.refused.delete(s);
      else this.refused.add(s);
      if (!isWild) break;
    }
  }

  isRefused(s: Spec): boolean {
    return this.refused.has(s);
  }
}

/** create_refuse_error: "The server is configured to refuse --checksum (-c)". */
function refuseText(s: Spec): string {
  const name = s.long || s.short;
  return `The server is configured to refuse --${name}${s.long && s.short ? ` (-${s.short})` : ''}`;
}

function toInt(name: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new OptionError(`on remote machine: --${name}: invalid numeric value`);
  return Number(v);
}

/** Apply one recognised option with its value to `o`. */
function set(o: ServerOptions, s: Spec, value: string | undefined): void {
  const n = s.long || s.short;
  o.seen.push(n);
  switch (n) {
    case 'server': o.server = true; break;
    case 'sender': o.sender = true; break;
    case 'verbose': o.verbose++; break;
    case 'no-verbose': case 'no-v': o.verbose = 0; break;
    case 'quiet': o.quiet = true; break;
    case 'dry-run': o.dryRun = true; break;
    case 'archive': o.recursive = o.links = o.perms = o.times = o.group = o.owner = o.devices = o.specials = true; break;
    case 'recursive': o.recursive = true; break;
    case 'no-recursive': case 'no-r': o.recursive = false; break;
    case 'dirs': o.dirs = true; break;
    case 'no-dirs': case 'no-d': o.dirs = false; break;
    case 'links': o.links = true; break;
    case 'no-links': case 'no-l': o.links = false; break;
    case 'copy-links': o.copyLinks = true; break;
    case 'copy-unsafe-links': o.copyUnsafeLinks = true; break;
    case 'safe-links': o.safeLinks = true; break;
    case 'copy-dirlinks': o.copyDirlinks = true; break;
    case 'keep-dirlinks': o.keepDirlinks = true; break;
    case 'hard-links': o.hardLinks = true; break;
    case 'no-hard-links': case 'no-H': o.hardLinks = false; break;
    case 'perms': o.perms = true; break;
    case 'no-perms': case 'no-p': o.perms = false; break;
    case 'executability': o.executability = true; break;
    case 'times': o.times = true; break;
    case 'no-times': case 'no-t': o.times = false; break;
    case 'atimes': o.atimes = true; break;
    case 'crtimes': o.crtimes = true; break;
    case 'owner': o.owner = true; break;
    case 'no-owner': case 'no-o': o.owner = false; break;
    case 'group': o.group = true; break;
    case 'no-group': case 'no-g': o.group = false; break;
    case 'D': o.devices = o.specials = true; break;
    case 'no-D': o.devices = o.specials = false; break;
    case 'devices': o.devices = true; break;
    case 'no-devices': o.devices = false; break;
    case 'specials': o.specials = true; break;
    case 'no-specials': o.specials = false; break;
    case 'acls': o.acls = true; break;
    case 'xattrs': o.xattrs = true; break;
    case 'relative': o.relative = true; break;
    case 'no-relative': case 'no-R': o.relative = false; break;
    case 'implied-dirs': case 'i-d': o.impliedDirs = true; break;
    case 'no-implied-dirs': case 'no-i-d': o.impliedDirs = false; break;
    case 'one-file-system': o.oneFileSystem = true; break;
    case 'checksum': o.checksum = true; break;
    case 'no-checksum': case 'no-c': o.checksum = false; break;
    case 'whole-file': o.wholeFile = true; break;
    case 'no-whole-file': case 'no-W': o.wholeFile = false; break;
    case 'ignore-times': o.ignoreTimes = true; break;
    case 'size-only': o.sizeOnly = true; break;
    case 'numeric-ids': o.numericIds = true; break;
    case 'no-numeric-ids': o.numericIds = false; break;
    case 'inplace': o.inplace = true; break;
    case 'no-inplace': o.inplace = false; break;
    case 'append': case 'append-verify': o.append = true; break;
    case 'del': case 'delete': case 'delete-before': case 'delete-during': case 'delete-delay': case 'delete-after': o.delete = true; break;
    case 'delete-excluded': o.delete = o.deleteExcluded = true; break;
    case 'prune-empty-dirs': o.pruneEmptyDirs = true; break;
    case 'cvs-exclude': o.cvsExclude = true; break;
    case 'compress': o.compress = true; break;
    case 'no-compress': case 'no-z': o.compress = false; break;
    case 'old-compress': o.compress = true; o.compressChoice = 'zlib'; break;
    case 'new-compress': o.compress = true; o.compressChoice = 'zlibx'; break;
    case 'compress-choice': case 'zc': o.compressChoice = value; break;
    case 'checksum-choice': case 'cc': o.checksumChoice = value; break;
    case 'checksum-seed': o.checksumSeed = toInt(n, value ?? ''); break;
    case 'block-size': o.blockSize = toInt(n, value ?? ''); break;
    case 'files-from': o.filesFrom = value; break;
    case 'from0': o.from0 = true; break;
    case 'secluded-args': case 'protect-args': o.secludedArgs = true; break;
    case 'iconv': o.iconv = value; break;
    case 'list-only': o.listOnly = true; break;
    case 'remove-source-files': case 'remove-sent-files': o.removeSourceFiles = true; break;
    case 'ignore-errors': o.ignoreErrors = true; break;
    case 'timeout': o.timeout = toInt(n, value ?? ''); break;
    case 'bwlimit': o.bwlimit = value; break;
    case 'rsh': o.capabilities = value; break;
    default: break;
  }
}

/**
 * Parse the server's argument vector (without argv[0]). Options come first; the first
 * operand ("." from a real client) ends them. `refuse` applies a module's rules: the
 * first refused option throws OptionError(refused) with rsync's message.
 */
export function parseServerArgs(argv: readonly string[], refuse?: RefuseRules): ServerOptions {
  const o = defaultOptions();
  const use = (s: Spec, value: string | undefined): void => {
    if (refuse?.isRefused(s)) throw new OptionError(refuseText(s), true);
    set(o, s, value);
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { i++; break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const s = BY_LONG.get(name);
      if (!s) throw new OptionError(`on remote machine: --${name}: unknown option`);
      let value: string | undefined;
      if (s.arg) {
        if (eq >= 0) value = a.slice(eq + 1);
        else if (i + 1 < argv.length) value = argv[++i];
        else throw new OptionError(`on remote machine: --${name}: missing argument`);
      } else if (eq >= 0) {
        throw new OptionError(`on remote machine: --${name}: option does not take an argument`);
      }
      use(s, value);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const s = BY_SHORT.get(c);
        if (!s) throw new OptionError(`on remote machine: -${c}: unknown option`);
        if (s.arg) {
          let value = a.slice(j + 1);
          if (value === '') {
            if (i + 1 >= argv.length) throw new OptionError(`on remote machine: -${c}: missing argument`);
            value = argv[++i]!;
          }
          use(s, value);
          break;
        }
        use(s, undefined);
      }
      continue;
    }
    break;
  }
  o.operands = argv.slice(i);
  return o;
}

/** The capability letters of `-e` after the version part (".iLsfxCIvu" -> "iLsfxCIvu"). */
export function capabilityLetters(o: ServerOptions): string {
  const c = o.capabilities ?? '';
  const dot = c.indexOf('.');
  return dot < 0 ? '' : c.slice(dot + 1);
}

/** option_error: the complete line rsync sends for a parse failure or refusal. */
export function optionErrorLine(err: OptionError): string {
  return `rsync: ${err.message}\n`;
}
