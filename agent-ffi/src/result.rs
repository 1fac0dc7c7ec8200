//! `dha_result`: the stable numbers every fallible export returns, and their messages.
//!
//! The numbers are part of the ABI: a number, once released, keeps its meaning
//! for ever and is never reused, even when its variant is retired (DESIGN.md
//! "The C ABI"). Each area owns a range of 100 so that areas can grow without
//! renumbering:
//!
//! | range   | area                                      |
//! |---------|-------------------------------------------|
//! | 0       | success                                   |
//! | 1–99    | general (arguments, buffers, panics)      |
//! | 100–199 | configuration                             |
//! | 200–299 | audit and the audited root                |
//! | 300–399 | update (TUF verification, downloads)      |
//! | 400–499 | integrity (baselines, seals, scans)       |
//! | 500–599 | boot control (500–519), install (520–599) |
//! | 600–699 | event log, events and hooks               |
//! | 700–709 | SBOM (software bill of materials)         |
//! | 710–719 | disclosure evidence (MDS2, IEC 62443-4-2) |

use crate::boundary::{OutBuf, ffi_quiet, try_out};
use crate::error::Error;
use std::ffi::c_char;

/// The result of a fallible dha function. `DHA_OK` (0) is success; every
/// other value is an error whose number never changes and is never reused.
///
/// In C this is a `uint32_t`: a value this header does not name (from a newer
/// library) is still a valid `dha_result`, and `dha_result_message` describes
/// it as unknown.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum dha_result {
    /// Success.
    DHA_OK = 0,

    /// A pointer argument that must not be NULL was NULL.
    DHA_ERR_NULL_ARGUMENT = 1,
    /// A string argument was not valid UTF-8.
    DHA_ERR_INVALID_UTF8 = 2,
    /// The caller's buffer is too small; the function says how much is needed
    /// (see each function).
    DHA_ERR_INSUFFICIENT_SIZE = 3,
    /// dha panicked (a bug in dha). The operation did not complete and no
    /// output was written; the process is unaffected. Please report it with
    /// the text of `dha_last_error_detail`.
    DHA_ERR_PANIC = 4,
    /// An index was not below the number of elements.
    DHA_ERR_INDEX_OUT_OF_RANGE = 5,
    /// An operating-system I/O error (the detail names the path and the cause).
    DHA_ERR_IO = 6,
    /// An argument is out of its allowed range (an unknown enum value, a
    /// string longer than its documented limit).
    DHA_ERR_INVALID_ARGUMENT = 7,
    /// The log callback cannot be installed: another logger of the Rust `log`
    /// crate already owns this process's log records.
    DHA_ERR_LOGGER_UNAVAILABLE = 8,
    /// The function may not be called from inside a dha callback (it would
    /// deadlock); call it after the callback has returned.
    DHA_ERR_CALLED_FROM_CALLBACK = 9,

    /// The configuration is not valid TOML, or has a key of the wrong type or
    /// an unknown key (the detail names the key, its line and column).
    DHA_ERR_CONFIG_PARSE = 100,
    /// A configuration value is out of its allowed range (the detail names
    /// the dotted key, e.g. `password.min_days`).
    DHA_ERR_CONFIG_INVALID = 101,

    /// The root directory to audit does not exist.
    DHA_ERR_ROOT_NOT_FOUND = 200,
    /// The root to audit is not a directory.
    DHA_ERR_ROOT_NOT_A_DIRECTORY = 201,
    /// The root directory to audit may not be read by this process.
    DHA_ERR_ROOT_PERMISSION_DENIED = 202,

    /// An update failure of a kind this version of the header does not name (a
    /// newer verification failure); the detail says what failed.
    DHA_ERR_UPDATE = 300,
    /// Metadata that is not the JSON its role needs, or has a field of the wrong
    /// type or value (the detail names the role and the field).
    DHA_ERR_UPDATE_MALFORMED = 301,
    /// A metadata value cannot be written as canonical JSON (a float, say), so its
    /// signatures cannot be checked.
    DHA_ERR_UPDATE_CANONICAL_JSON = 302,
    /// A key in the metadata cannot be used (unknown type or scheme, bad encoding);
    /// the detail names its key id.
    DHA_ERR_UPDATE_BAD_KEY = 303,
    /// Fewer valid signatures from distinct authorised keys than the role's
    /// threshold (TUF 1.0.34 §5.3.4, §5.4.2, §5.5.3, §5.6.3; the detail names the
    /// role, the count and the threshold).
    DHA_ERR_UPDATE_THRESHOLD = 304,
    /// A role's threshold is below 1 (TUF 1.0.34 §4.3).
    DHA_ERR_UPDATE_INVALID_THRESHOLD = 305,
    /// A local file or directory of the update could not be read or written (the
    /// metadata directory, a repository directory on removable media, the
    /// destination directory); the detail names the path and the cause.
    DHA_ERR_UPDATE_IO = 306,
    /// The repository has no file at a path that must exist (a missing file on the
    /// media, an HTTP 404); the detail names the path.
    DHA_ERR_UPDATE_NOT_FOUND = 307,
    /// A download delivered more bytes than its bound.
    DHA_ERR_UPDATE_TOO_LARGE = 308,
    /// A role name, target name or repository path that could escape its directory
    /// or cannot be stored.
    DHA_ERR_UPDATE_UNSAFE_NAME = 309,
    /// A target ended before the length its metadata gives (TUF 1.0.34 §5.7.3).
    DHA_ERR_UPDATE_TARGET_LENGTH = 310,
    /// A target delivered more bytes than the length its metadata gives (TUF 1.0.34
    /// §5.7.3: an endless-data attack).
    DHA_ERR_UPDATE_TARGET_TOO_LONG = 311,
    /// A target's digest differs from a hash its metadata lists (TUF 1.0.34 §5.7.3;
    /// the detail names the target and the algorithm).
    DHA_ERR_UPDATE_TARGET_HASH = 312,
    /// The metadata lists no hash algorithm this library supports for a target
    /// (sha256, sha512).
    DHA_ERR_UPDATE_NO_SUPPORTED_HASH = 313,
    /// A target's release counter is below the device's anti-rollback floor for its
    /// name.
    DHA_ERR_UPDATE_FLOOR_ROLLBACK = 314,
    /// A server answered with an HTTP status other than 200 or 404 (redirects are
    /// not followed); the detail names the URL and the status.
    DHA_ERR_UPDATE_HTTP_STATUS = 315,
    /// The TLS server certificate is not vouched for by the configured CA bundle
    /// (unknown issuer, wrong name, expired).
    DHA_ERR_UPDATE_CERTIFICATE = 316,
    /// Metadata has expired (TUF 1.0.34 §5.3.10, §5.4.4, §5.5.6, §5.6.5: a freeze
    /// attack); the detail names the role.
    DHA_ERR_UPDATE_EXPIRED = 317,
    /// A role's version is below the version already trusted (TUF 1.0.34 §5.4.3,
    /// §5.5.5: a rollback attack); the detail names the role and both versions.
    DHA_ERR_UPDATE_ROLLBACK = 318,
    /// A new snapshot no longer lists a role the trusted snapshot lists (TUF 1.0.34
    /// §5.5.5).
    DHA_ERR_UPDATE_ROLE_REMOVED = 319,
    /// A version other than the one required: a root that is not N+1 (TUF 1.0.34
    /// §5.3.5), or a version differing from what the referring metadata gives
    /// (§5.5.4, §5.6.4: a mix-and-match attack).
    DHA_ERR_UPDATE_VERSION_MISMATCH = 320,
    /// A role's metadata exceeds its fixed size limit (TUF 1.0.34 §5.3.3, §5.4.1:
    /// an endless-data attack).
    DHA_ERR_UPDATE_METADATA_TOO_LARGE = 321,
    /// A role's metadata is not the length its referring metadata gives (TUF 1.0.34
    /// §5.5.2, §5.6.2).
    DHA_ERR_UPDATE_METADATA_LENGTH = 322,
    /// A role's metadata does not match a hash its referring metadata gives (TUF
    /// 1.0.34 §5.5.2, §5.6.2).
    DHA_ERR_UPDATE_METADATA_HASH = 323,
    /// The snapshot or timestamp does not list a role that must be loaded (TUF
    /// 1.0.34 §5.6.1).
    DHA_ERR_UPDATE_NOT_LISTED = 324,
    /// The metadata directory holds no trusted root: call dha_updater_init_root
    /// with the root the device ships first (TUF 1.0.34 §5.2).
    DHA_ERR_UPDATE_NO_TRUSTED_ROOT = 325,
    /// The metadata directory already trusts a different root; initialising it
    /// again could roll it back.
    DHA_ERR_UPDATE_ALREADY_INITIALISED = 326,
    /// No trusted targets role lists the target (TUF 1.0.34 §5.6.7, §5.7.1).
    DHA_ERR_UPDATE_TARGET_NOT_FOUND = 327,
    /// The target is declared for other hardware than the device's (its
    /// `hardware_id` custom field: wrong-software protection).
    DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH = 328,
    /// The device has an anti-rollback floor for the target's name, but the target
    /// lists no release counter.
    DHA_ERR_UPDATE_RELEASE_COUNTER_MISSING = 329,
    /// The target's metadata lists no hash of the algorithm asked for
    /// (dha_target_hash).
    DHA_ERR_UPDATE_HASH_NOT_LISTED = 330,
    /// An https:// repository was given but no CA bundle: call
    /// dha_updater_set_ca_bundle before fetching.
    DHA_ERR_UPDATE_NO_CA_BUNDLE = 331,

    /// An integrity failure of a kind this version of the header does not
    /// name (a newer failure); the detail says what failed.
    DHA_ERR_INTEGRITY = 400,
    /// A file of integrity monitoring could not be read or written (the
    /// baseline, a key file, the known-good store, a file to restore); the
    /// detail names the path and the cause.
    DHA_ERR_INTEGRITY_IO = 401,
    /// The integrity policy is not usable: an unknown attribute or group, a
    /// bad glob, a relative path (the detail names the dotted key, e.g.
    /// `integrity.rules[2].attributes`, or `paths[N]`).
    DHA_ERR_INTEGRITY_POLICY = 402,
    /// The baseline file is not a well-formed dha baseline (bad magic, unknown
    /// version, truncated, a field out of range); the detail names the file and
    /// the byte offset.
    DHA_ERR_INTEGRITY_BASELINE_FORMAT = 403,
    /// The baseline was refused: it carries no seal, or its seal does not
    /// verify with the key given (altered, truncated, or sealed with another
    /// key). Nothing of it was used.
    DHA_ERR_INTEGRITY_BASELINE_SEAL = 404,
    /// A key file is missing, unreadable, of the wrong kind (an Ed25519 public
    /// key where sealing needs the private key) or malformed, or already
    /// exists where a new key is to be written (the detail never holds key
    /// material).
    DHA_ERR_INTEGRITY_KEY = 405,
    /// The records of a new baseline cannot be stored (a path given twice, an
    /// empty or over-long path); the detail names the path.
    DHA_ERR_INTEGRITY_INVALID_RECORDS = 406,
    /// The known-good store is unusable or not set, or holds no good copy of
    /// the file (a missing object, or one whose content no longer matches its
    /// hash: never put back); the detail names the store or object and the hash.
    DHA_ERR_INTEGRITY_STORE = 407,
    /// A restore was refused: the baseline does not record the path as a
    /// regular file with a hash, another kind of object sits at the path, or
    /// its directory is missing. Nothing was changed at the path.
    DHA_ERR_INTEGRITY_RESTORE_REFUSED = 408,

    /// A boot-control failure of a kind this version of the header does not
    /// name (a newer failure); the detail says what failed.
    DHA_ERR_BOOT = 500,
    /// The boot loader's environment could not be read or is malformed (a
    /// missing environment file, `fw_printenv` or `grub-editenv` failing, no
    /// `BOOT_ORDER`); the detail names the file or tool.
    DHA_ERR_BOOT_READ = 501,
    /// Writing the boot loader's environment failed, or reading it back did
    /// not give what was written (a "mark good" that silently did not
    /// stick); the detail names the file or tool and the variable.
    DHA_ERR_BOOT_WRITE = 502,
    /// The boot-control request was refused and nothing was written: it
    /// names a slot the environment does not have, or it would leave no slot
    /// with tries left (the device could not boot).
    DHA_ERR_BOOT_REFUSED = 503,

    /// An install failure of a kind this version of the header does not name
    /// (a newer failure); the detail says what failed.
    DHA_ERR_INSTALL = 520,
    /// The `[install]` section does not allow installing (no A/B pair of
    /// slots, a bad slot name or path); the detail names the dotted key.
    DHA_ERR_INSTALL_CONFIG = 521,
    /// The target's verified metadata lacks what an install needs (a SHA-256
    /// hash, a `custom.release_counter`); nothing was written.
    DHA_ERR_INSTALL_TARGET = 522,
    /// The target's release counter is below the device's installed
    /// anti-rollback floor; nothing was written.
    DHA_ERR_INSTALL_ROLLBACK = 523,
    /// A pre- or post-install hook vetoed the install (pre-install: nothing
    /// was written; post-install: the slot was written but not switched to);
    /// the detail names the hook and its exit status.
    DHA_ERR_INSTALL_VETOED = 524,
    /// The file to install is not the verified target (its length or SHA-256
    /// differ from the verified metadata); the slot is left bad and not
    /// switched to.
    DHA_ERR_INSTALL_SOURCE_MISMATCH = 525,
    /// Reading the written slot back did not give the verified image; the
    /// slot is left bad and not switched to.
    DHA_ERR_INSTALL_READ_BACK = 526,
    /// Reading the file or reading, writing or syncing a slot failed; the
    /// detail names the file or device and the cause. The slot is left bad.
    DHA_ERR_INSTALL_IO = 527,
    /// The install journal could not be read or written, or is malformed;
    /// the detail names the file.
    DHA_ERR_INSTALL_JOURNAL = 528,
    /// The anti-rollback floor file could not be read or written; the detail
    /// names the file.
    DHA_ERR_INSTALL_FLOOR = 529,
    /// The install was refused before anything was written (it would write
    /// the running slot, or the boot loader lists no bootable slot).
    DHA_ERR_INSTALL_REFUSED = 530,
    /// The slot's kind cannot be installed into by this version (directory
    /// slots); nothing was written.
    DHA_ERR_INSTALL_UNSUPPORTED = 531,
    /// Another installer holds the install lock (another `dha install`, or
    /// another process's installer, is running); nothing was done.
    DHA_ERR_INSTALL_LOCKED = 532,
    /// An entry of a tar archive for a directory slot would land outside the
    /// slot (absolute path, `..`, a link escaping it) or is a device node or
    /// FIFO that `install.allow_devices` does not allow; nothing of it became
    /// the slot's content.
    DHA_ERR_INSTALL_UNSAFE_ARCHIVE = 533,

    /// An event-log failure of a kind this version of the header does not
    /// name (a newer failure); the detail says what failed.
    DHA_ERR_EVENTLOG = 600,
    /// The event log or one of its key files could not be read or written;
    /// the detail names the file and the cause.
    DHA_ERR_EVENTLOG_IO = 601,
    /// A key file (the log's evolving key file, or an initial key file) is not
    /// in its format or is corrupted; the detail names the file, never key
    /// material.
    DHA_ERR_EVENTLOG_KEY_FILE = 602,
    /// The committed part of the log is not an event log (bad magic, a
    /// malformed record); the detail names the file.
    DHA_ERR_EVENTLOG_FORMAT = 603,
    /// The log does not match its key file: shortened, or its last committed
    /// record replaced (tampering or a lost write). Verify it with the
    /// initial key (`dha_eventlog_verify`).
    DHA_ERR_EVENTLOG_MISMATCH = 604,
    /// The log or a key file already exists: creating one never overwrites.
    DHA_ERR_EVENTLOG_EXISTS = 605,
    /// The event cannot be recorded (its payload is larger than a record
    /// holds).
    DHA_ERR_EVENTLOG_EVENT = 606,
    /// An earlier commit on this handle failed, so its key no longer matches
    /// the file: free it and open the log again (which recovers what reached
    /// the disk).
    DHA_ERR_EVENTLOG_POISONED = 607,
    /// The system random generator failed (making a key).
    DHA_ERR_EVENTLOG_RANDOM = 608,
    /// The log ends with bytes that are not a valid record: a torn write
    /// (power cut) or a forged tail. Nothing was opened; the detail gives the
    /// offset and length. `dha_eventlog_truncate_and_record` cuts it off and
    /// records an `eventlog.tampered` event.
    DHA_ERR_EVENTLOG_TORN_TAIL = 609,
    /// The event kind's name is not one this library knows (see the
    /// `DHA_EVENT_*` masks for the classes; the detail lists the kinds).
    DHA_ERR_EVENT_UNKNOWN_KIND = 610,
    /// Another writer (a live `dha_eventlog` of this or another process, or a
    /// `dha` command) holds the event log's lock and did not release it
    /// within 10 seconds; nothing was opened.
    DHA_ERR_EVENTLOG_BUSY = 611,

    /// An SBOM failure of a kind this version of the header does not name
    /// (a newer failure); the detail says what failed.
    DHA_ERR_SBOM = 700,
    /// The package database (`/var/lib/dpkg/status`) or the install journal
    /// exists but cannot be read, or the journal is malformed; the detail
    /// names the file. No SBOM is made rather than one that leaves software out.
    DHA_ERR_SBOM_UNREADABLE = 701,
    /// The package database is larger than a read limit (`[limits]
    /// max_file_bytes`), so the SBOM would be incomplete; none is made.
    DHA_ERR_SBOM_INCOMPLETE = 702,

    /// No check could run against the root (every check was not applicable
    /// or disabled): it holds no device, or a mistyped path was given. No
    /// evidence is made rather than one answering "not applicable" for a
    /// device that was never looked at.
    DHA_ERR_EVIDENCE_NOTHING_AUDITED = 710,
}

/// Every result, in numeric order (for lookups and tests). Not exported:
/// C learns the numbers from the header.
const ALL: [dha_result; 90] = [
    // Keep in numeric order; a unit test checks it.
    dha_result::DHA_OK,
    dha_result::DHA_ERR_NULL_ARGUMENT,
    dha_result::DHA_ERR_INVALID_UTF8,
    dha_result::DHA_ERR_INSUFFICIENT_SIZE,
    dha_result::DHA_ERR_PANIC,
    dha_result::DHA_ERR_INDEX_OUT_OF_RANGE,
    dha_result::DHA_ERR_IO,
    dha_result::DHA_ERR_INVALID_ARGUMENT,
    dha_result::DHA_ERR_LOGGER_UNAVAILABLE,
    dha_result::DHA_ERR_CALLED_FROM_CALLBACK,
    dha_result::DHA_ERR_CONFIG_PARSE,
    dha_result::DHA_ERR_CONFIG_INVALID,
    dha_result::DHA_ERR_ROOT_NOT_FOUND,
    dha_result::DHA_ERR_ROOT_NOT_A_DIRECTORY,
    dha_result::DHA_ERR_ROOT_PERMISSION_DENIED,
    dha_result::DHA_ERR_UPDATE,
    dha_result::DHA_ERR_UPDATE_MALFORMED,
    dha_result::DHA_ERR_UPDATE_CANONICAL_JSON,
    dha_result::DHA_ERR_UPDATE_BAD_KEY,
    dha_result::DHA_ERR_UPDATE_THRESHOLD,
    dha_result::DHA_ERR_UPDATE_INVALID_THRESHOLD,
    dha_result::DHA_ERR_UPDATE_IO,
    dha_result::DHA_ERR_UPDATE_NOT_FOUND,
    dha_result::DHA_ERR_UPDATE_TOO_LARGE,
    dha_result::DHA_ERR_UPDATE_UNSAFE_NAME,
    dha_result::DHA_ERR_UPDATE_TARGET_LENGTH,
    dha_result::DHA_ERR_UPDATE_TARGET_TOO_LONG,
    dha_result::DHA_ERR_UPDATE_TARGET_HASH,
    dha_result::DHA_ERR_UPDATE_NO_SUPPORTED_HASH,
    dha_result::DHA_ERR_UPDATE_FLOOR_ROLLBACK,
    dha_result::DHA_ERR_UPDATE_HTTP_STATUS,
    dha_result::DHA_ERR_UPDATE_CERTIFICATE,
    dha_result::DHA_ERR_UPDATE_EXPIRED,
    dha_result::DHA_ERR_UPDATE_ROLLBACK,
    dha_result::DHA_ERR_UPDATE_ROLE_REMOVED,
    dha_result::DHA_ERR_UPDATE_VERSION_MISMATCH,
    dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE,
    dha_result::DHA_ERR_UPDATE_METADATA_LENGTH,
    dha_result::DHA_ERR_UPDATE_METADATA_HASH,
    dha_result::DHA_ERR_UPDATE_NOT_LISTED,
    dha_result::DHA_ERR_UPDATE_NO_TRUSTED_ROOT,
    dha_result::DHA_ERR_UPDATE_ALREADY_INITIALISED,
    dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND,
    dha_result::DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH,
    dha_result::DHA_ERR_UPDATE_RELEASE_COUNTER_MISSING,
    dha_result::DHA_ERR_UPDATE_HASH_NOT_LISTED,
    dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE,
    dha_result::DHA_ERR_INTEGRITY,
    dha_result::DHA_ERR_INTEGRITY_IO,
    dha_result::DHA_ERR_INTEGRITY_POLICY,
    dha_result::DHA_ERR_INTEGRITY_BASELINE_FORMAT,
    dha_result::DHA_ERR_INTEGRITY_BASELINE_SEAL,
    dha_result::DHA_ERR_INTEGRITY_KEY,
    dha_result::DHA_ERR_INTEGRITY_INVALID_RECORDS,
    dha_result::DHA_ERR_INTEGRITY_STORE,
    dha_result::DHA_ERR_INTEGRITY_RESTORE_REFUSED,
    dha_result::DHA_ERR_BOOT,
    dha_result::DHA_ERR_BOOT_READ,
    dha_result::DHA_ERR_BOOT_WRITE,
    dha_result::DHA_ERR_BOOT_REFUSED,
    dha_result::DHA_ERR_INSTALL,
    dha_result::DHA_ERR_INSTALL_CONFIG,
    dha_result::DHA_ERR_INSTALL_TARGET,
    dha_result::DHA_ERR_INSTALL_ROLLBACK,
    dha_result::DHA_ERR_INSTALL_VETOED,
    dha_result::DHA_ERR_INSTALL_SOURCE_MISMATCH,
    dha_result::DHA_ERR_INSTALL_READ_BACK,
    dha_result::DHA_ERR_INSTALL_IO,
    dha_result::DHA_ERR_INSTALL_JOURNAL,
    dha_result::DHA_ERR_INSTALL_FLOOR,
    dha_result::DHA_ERR_INSTALL_REFUSED,
    dha_result::DHA_ERR_INSTALL_UNSUPPORTED,
    dha_result::DHA_ERR_INSTALL_LOCKED,
    dha_result::DHA_ERR_INSTALL_UNSAFE_ARCHIVE,
    dha_result::DHA_ERR_EVENTLOG,
    dha_result::DHA_ERR_EVENTLOG_IO,
    dha_result::DHA_ERR_EVENTLOG_KEY_FILE,
    dha_result::DHA_ERR_EVENTLOG_FORMAT,
    dha_result::DHA_ERR_EVENTLOG_MISMATCH,
    dha_result::DHA_ERR_EVENTLOG_EXISTS,
    dha_result::DHA_ERR_EVENTLOG_EVENT,
    dha_result::DHA_ERR_EVENTLOG_POISONED,
    dha_result::DHA_ERR_EVENTLOG_RANDOM,
    dha_result::DHA_ERR_EVENTLOG_TORN_TAIL,
    dha_result::DHA_ERR_EVENT_UNKNOWN_KIND,
    dha_result::DHA_ERR_EVENTLOG_BUSY,
    dha_result::DHA_ERR_SBOM,
    dha_result::DHA_ERR_SBOM_UNREADABLE,
    dha_result::DHA_ERR_SBOM_INCOMPLETE,
    dha_result::DHA_ERR_EVIDENCE_NOTHING_AUDITED,
];

impl dha_result {
    /// The result with number `code`, or `None` for a number this library
    /// does not know. Numbers come from C as plain integers, so they are
    /// matched, never transmuted into the enum.
    pub fn from_u32(code: u32) -> Option<dha_result> {
        ALL.into_iter().find(|r| *r as u32 == code)
    }

    /// A one-line English description.
    pub fn message(self) -> &'static str {
        match self {
            dha_result::DHA_OK => "success",
            dha_result::DHA_ERR_NULL_ARGUMENT => "a required pointer argument was NULL",
            dha_result::DHA_ERR_INVALID_UTF8 => "a string argument is not valid UTF-8",
            dha_result::DHA_ERR_INSUFFICIENT_SIZE => "the buffer is too small",
            dha_result::DHA_ERR_PANIC => {
                "internal error: dha panicked (a bug in dha; the operation was abandoned)"
            }
            dha_result::DHA_ERR_INDEX_OUT_OF_RANGE => "index out of range",
            dha_result::DHA_ERR_IO => "input/output error",
            dha_result::DHA_ERR_INVALID_ARGUMENT => "an argument is out of its allowed range",
            dha_result::DHA_ERR_LOGGER_UNAVAILABLE => {
                "the log callback cannot be installed: another logger owns this process's log records"
            }
            dha_result::DHA_ERR_CALLED_FROM_CALLBACK => {
                "this function may not be called from inside a dha callback"
            }
            dha_result::DHA_ERR_CONFIG_PARSE => "the configuration could not be parsed",
            dha_result::DHA_ERR_CONFIG_INVALID => "a configuration value is out of range",
            dha_result::DHA_ERR_ROOT_NOT_FOUND => "the root directory does not exist",
            dha_result::DHA_ERR_ROOT_NOT_A_DIRECTORY => "the root is not a directory",
            dha_result::DHA_ERR_ROOT_PERMISSION_DENIED => {
                "permission denied opening the root directory"
            }
            dha_result::DHA_ERR_UPDATE => "the update failed",
            dha_result::DHA_ERR_UPDATE_MALFORMED => "malformed update metadata",
            dha_result::DHA_ERR_UPDATE_CANONICAL_JSON => {
                "update metadata cannot be written as canonical JSON"
            }
            dha_result::DHA_ERR_UPDATE_BAD_KEY => "a key in the update metadata cannot be used",
            dha_result::DHA_ERR_UPDATE_THRESHOLD => {
                "not enough valid signatures for the role's threshold"
            }
            dha_result::DHA_ERR_UPDATE_INVALID_THRESHOLD => {
                "a role's signature threshold is invalid (below 1)"
            }
            dha_result::DHA_ERR_UPDATE_IO => {
                "an update file or directory could not be read or written"
            }
            dha_result::DHA_ERR_UPDATE_NOT_FOUND => "a file is missing from the update repository",
            dha_result::DHA_ERR_UPDATE_TOO_LARGE => "a download exceeded its size bound",
            dha_result::DHA_ERR_UPDATE_UNSAFE_NAME => {
                "a role or target name could escape its directory"
            }
            dha_result::DHA_ERR_UPDATE_TARGET_LENGTH => {
                "the target is shorter than its metadata says"
            }
            dha_result::DHA_ERR_UPDATE_TARGET_TOO_LONG => {
                "the target is longer than its metadata says"
            }
            dha_result::DHA_ERR_UPDATE_TARGET_HASH => {
                "the target's hash does not match its metadata"
            }
            dha_result::DHA_ERR_UPDATE_NO_SUPPORTED_HASH => {
                "the target lists no supported hash algorithm"
            }
            dha_result::DHA_ERR_UPDATE_FLOOR_ROLLBACK => {
                "the target's release is below the device's anti-rollback floor"
            }
            dha_result::DHA_ERR_UPDATE_HTTP_STATUS => {
                "the update server answered with an unexpected HTTP status"
            }
            dha_result::DHA_ERR_UPDATE_CERTIFICATE => {
                "the update server's TLS certificate is not trusted"
            }
            dha_result::DHA_ERR_UPDATE_EXPIRED => "update metadata has expired",
            dha_result::DHA_ERR_UPDATE_ROLLBACK => {
                "update metadata was rolled back to an older version"
            }
            dha_result::DHA_ERR_UPDATE_ROLE_REMOVED => {
                "a role listed by the trusted snapshot is missing from the new one"
            }
            dha_result::DHA_ERR_UPDATE_VERSION_MISMATCH => {
                "update metadata has a version other than the one required"
            }
            dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE => {
                "update metadata exceeds its size limit"
            }
            dha_result::DHA_ERR_UPDATE_METADATA_LENGTH => {
                "update metadata is not the length its parent metadata gives"
            }
            dha_result::DHA_ERR_UPDATE_METADATA_HASH => {
                "update metadata does not match the hash its parent metadata gives"
            }
            dha_result::DHA_ERR_UPDATE_NOT_LISTED => {
                "a role is not listed in the snapshot metadata"
            }
            dha_result::DHA_ERR_UPDATE_NO_TRUSTED_ROOT => {
                "no trusted root: initialise the metadata directory first"
            }
            dha_result::DHA_ERR_UPDATE_ALREADY_INITIALISED => {
                "the metadata directory already trusts a different root"
            }
            dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND => {
                "the target is not listed by the trusted targets metadata"
            }
            dha_result::DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH => {
                "the target is built for other hardware"
            }
            dha_result::DHA_ERR_UPDATE_RELEASE_COUNTER_MISSING => {
                "the target lists no release counter but the device has a floor for it"
            }
            dha_result::DHA_ERR_UPDATE_HASH_NOT_LISTED => {
                "the target lists no hash of that algorithm"
            }
            dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE => "an https repository needs a CA bundle",
            dha_result::DHA_ERR_INTEGRITY => "integrity monitoring failed",
            dha_result::DHA_ERR_INTEGRITY_IO => {
                "an integrity file (baseline, key, store) could not be read or written"
            }
            dha_result::DHA_ERR_INTEGRITY_POLICY => "the integrity policy is not usable",
            dha_result::DHA_ERR_INTEGRITY_BASELINE_FORMAT => {
                "the baseline file is not a well-formed dha baseline"
            }
            dha_result::DHA_ERR_INTEGRITY_BASELINE_SEAL => {
                "the baseline was refused: unsealed, altered, truncated or sealed with another key"
            }
            dha_result::DHA_ERR_INTEGRITY_KEY => {
                "the integrity key file is missing, malformed, of the wrong kind or already exists"
            }
            dha_result::DHA_ERR_INTEGRITY_INVALID_RECORDS => {
                "the records of the new baseline cannot be stored"
            }
            dha_result::DHA_ERR_INTEGRITY_STORE => {
                "the known-good store is unusable or holds no good copy of the file"
            }
            dha_result::DHA_ERR_INTEGRITY_RESTORE_REFUSED => {
                "the restore was refused; nothing was changed at the path"
            }
            dha_result::DHA_ERR_BOOT => "boot control failed",
            dha_result::DHA_ERR_BOOT_READ => {
                "the boot loader's environment could not be read or is malformed"
            }
            dha_result::DHA_ERR_BOOT_WRITE => {
                "the boot loader's environment could not be written, or did not read back as written"
            }
            dha_result::DHA_ERR_BOOT_REFUSED => {
                "the boot-control request was refused (unknown slot, or no bootable slot would remain)"
            }
            dha_result::DHA_ERR_INSTALL => "the install failed",
            dha_result::DHA_ERR_INSTALL_CONFIG => {
                "the [install] configuration does not allow installing"
            }
            dha_result::DHA_ERR_INSTALL_TARGET => {
                "the target's verified metadata lacks a SHA-256 hash or a release counter"
            }
            dha_result::DHA_ERR_INSTALL_ROLLBACK => {
                "the target is older than the installed anti-rollback floor"
            }
            dha_result::DHA_ERR_INSTALL_VETOED => "a pre- or post-install hook vetoed the install",
            dha_result::DHA_ERR_INSTALL_SOURCE_MISMATCH => {
                "the file to install is not the verified target"
            }
            dha_result::DHA_ERR_INSTALL_READ_BACK => {
                "the slot did not read back as the verified image"
            }
            dha_result::DHA_ERR_INSTALL_IO => {
                "a slot or the file to install could not be read or written"
            }
            dha_result::DHA_ERR_INSTALL_JOURNAL => {
                "the install journal could not be read or written"
            }
            dha_result::DHA_ERR_INSTALL_FLOOR => {
                "the anti-rollback floor file could not be read or written"
            }
            dha_result::DHA_ERR_INSTALL_REFUSED => "the install was refused",
            dha_result::DHA_ERR_INSTALL_UNSUPPORTED => {
                "this version cannot install into that kind of slot"
            }
            dha_result::DHA_ERR_INSTALL_LOCKED => {
                "another install is in progress (the install lock is held)"
            }
            dha_result::DHA_ERR_INSTALL_UNSAFE_ARCHIVE => {
                "an archive entry would escape its directory slot or is a device not allowed"
            }
            dha_result::DHA_ERR_EVENTLOG => "the event log failed",
            dha_result::DHA_ERR_EVENTLOG_IO => {
                "the event log or its key file could not be read or written"
            }
            dha_result::DHA_ERR_EVENTLOG_KEY_FILE => {
                "an event-log key file is malformed or corrupted"
            }
            dha_result::DHA_ERR_EVENTLOG_FORMAT => "the event log is malformed",
            dha_result::DHA_ERR_EVENTLOG_MISMATCH => {
                "the event log does not match its key file (shortened or replaced)"
            }
            dha_result::DHA_ERR_EVENTLOG_EXISTS => "the event log or key file already exists",
            dha_result::DHA_ERR_EVENTLOG_EVENT => {
                "the event cannot be recorded (payload too large)"
            }
            dha_result::DHA_ERR_EVENTLOG_POISONED => {
                "an earlier commit failed: reopen the event log"
            }
            dha_result::DHA_ERR_EVENTLOG_RANDOM => "the system random generator failed",
            dha_result::DHA_ERR_EVENTLOG_TORN_TAIL => "the event log ends with a torn record",
            dha_result::DHA_ERR_EVENT_UNKNOWN_KIND => "unknown event kind",
            dha_result::DHA_ERR_EVENTLOG_BUSY => "the event log is in use by another writer",
            dha_result::DHA_ERR_SBOM => "the SBOM could not be made",
            dha_result::DHA_ERR_SBOM_UNREADABLE => {
                "the package database or the install journal cannot be read; no SBOM was made"
            }
            dha_result::DHA_ERR_SBOM_INCOMPLETE => {
                "the package database is larger than a read limit; no SBOM was made"
            }
            dha_result::DHA_ERR_EVIDENCE_NOTHING_AUDITED => {
                "no check could run against the root; no evidence was made"
            }
        }
    }
}

/// The message of result `code`; numbers this library does not know get a
/// message that says so and repeats the number.
pub fn message_of(code: u32) -> std::borrow::Cow<'static, str> {
    match dha_result::from_u32(code) {
        Some(r) => r.message().into(),
        None => format!("unknown result code {code}").into(),
    }
}

/// Copies the English message of result `code` into `buf`.
///
/// `code` is a `dha_result` taken as a plain number, so that any value is
/// accepted: a number this library does not know gives
/// "unknown result code N".
///
/// Whenever `buf` is not NULL and `len > 0`, `buf` is NUL-terminated on
/// return, even on error: the message is cut (at a UTF-8 character boundary)
/// to fit `len - 1` bytes. `*out_written` receives the number of bytes written
/// before the NUL. A buffer of `DHA_MESSAGE_MAX + 1` bytes always suffices.
///
/// Returns `DHA_OK` when the whole message fit, `DHA_ERR_INSUFFICIENT_SIZE`
/// when it was cut (including `buf == NULL, len == 0`, which writes 0 to
/// `*out_written`), and `DHA_ERR_NULL_ARGUMENT` when `out_written` is NULL or
/// `buf` is NULL with `len > 0`. Never changes `dha_last_error_detail`.
/// Callable from any thread.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `len` bytes; `out_written` is NULL or
/// valid for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dha_result_message(
    code: u32,
    buf: *mut c_char,
    len: usize,
    out_written: *mut usize,
) -> dha_result {
    ffi_quiet(|| {
        // SAFETY: the caller guarantees `buf` is NULL or valid for `len` bytes.
        let mut out = unsafe { OutBuf::new(buf, len) }?;
        let written = try_out!(out_written);
        let copied = out.copy_truncating(&message_of(code));
        written.write(copied.written);
        if copied.complete {
            Ok(())
        } else {
            Err(Error::insufficient_size())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr;

    #[test]
    fn numbers_are_frozen() {
        // These numbers are the ABI: changing one breaks every integrator.
        let frozen: [(dha_result, u32); 90] = [
            (dha_result::DHA_OK, 0),
            (dha_result::DHA_ERR_NULL_ARGUMENT, 1),
            (dha_result::DHA_ERR_INVALID_UTF8, 2),
            (dha_result::DHA_ERR_INSUFFICIENT_SIZE, 3),
            (dha_result::DHA_ERR_PANIC, 4),
            (dha_result::DHA_ERR_INDEX_OUT_OF_RANGE, 5),
            (dha_result::DHA_ERR_IO, 6),
            (dha_result::DHA_ERR_INVALID_ARGUMENT, 7),
            (dha_result::DHA_ERR_LOGGER_UNAVAILABLE, 8),
            (dha_result::DHA_ERR_CALLED_FROM_CALLBACK, 9),
            (dha_result::DHA_ERR_CONFIG_PARSE, 100),
            (dha_result::DHA_ERR_CONFIG_INVALID, 101),
            (dha_result::DHA_ERR_ROOT_NOT_FOUND, 200),
            (dha_result::DHA_ERR_ROOT_NOT_A_DIRECTORY, 201),
            (dha_result::DHA_ERR_ROOT_PERMISSION_DENIED, 202),
            (dha_result::DHA_ERR_UPDATE, 300),
            (dha_result::DHA_ERR_UPDATE_MALFORMED, 301),
            (dha_result::DHA_ERR_UPDATE_CANONICAL_JSON, 302),
            (dha_result::DHA_ERR_UPDATE_BAD_KEY, 303),
            (dha_result::DHA_ERR_UPDATE_THRESHOLD, 304),
            (dha_result::DHA_ERR_UPDATE_INVALID_THRESHOLD, 305),
            (dha_result::DHA_ERR_UPDATE_IO, 306),
            (dha_result::DHA_ERR_UPDATE_NOT_FOUND, 307),
            (dha_result::DHA_ERR_UPDATE_TOO_LARGE, 308),
            (dha_result::DHA_ERR_UPDATE_UNSAFE_NAME, 309),
            (dha_result::DHA_ERR_UPDATE_TARGET_LENGTH, 310),
            (dha_result::DHA_ERR_UPDATE_TARGET_TOO_LONG, 311),
            (dha_result::DHA_ERR_UPDATE_TARGET_HASH, 312),
            (dha_result::DHA_ERR_UPDATE_NO_SUPPORTED_HASH, 313),
            (dha_result::DHA_ERR_UPDATE_FLOOR_ROLLBACK, 314),
            (dha_result::DHA_ERR_UPDATE_HTTP_STATUS, 315),
            (dha_result::DHA_ERR_UPDATE_CERTIFICATE, 316),
            (dha_result::DHA_ERR_UPDATE_EXPIRED, 317),
            (dha_result::DHA_ERR_UPDATE_ROLLBACK, 318),
            (dha_result::DHA_ERR_UPDATE_ROLE_REMOVED, 319),
            (dha_result::DHA_ERR_UPDATE_VERSION_MISMATCH, 320),
            (dha_result::DHA_ERR_UPDATE_METADATA_TOO_LARGE, 321),
            (dha_result::DHA_ERR_UPDATE_METADATA_LENGTH, 322),
            (dha_result::DHA_ERR_UPDATE_METADATA_HASH, 323),
            (dha_result::DHA_ERR_UPDATE_NOT_LISTED, 324),
            (dha_result::DHA_ERR_UPDATE_NO_TRUSTED_ROOT, 325),
            (dha_result::DHA_ERR_UPDATE_ALREADY_INITIALISED, 326),
            (dha_result::DHA_ERR_UPDATE_TARGET_NOT_FOUND, 327),
            (dha_result::DHA_ERR_UPDATE_HARDWARE_ID_MISMATCH, 328),
            (dha_result::DHA_ERR_UPDATE_RELEASE_COUNTER_MISSING, 329),
            (dha_result::DHA_ERR_UPDATE_HASH_NOT_LISTED, 330),
            (dha_result::DHA_ERR_UPDATE_NO_CA_BUNDLE, 331),
            (dha_result::DHA_ERR_INTEGRITY, 400),
            (dha_result::DHA_ERR_INTEGRITY_IO, 401),
            (dha_result::DHA_ERR_INTEGRITY_POLICY, 402),
            (dha_result::DHA_ERR_INTEGRITY_BASELINE_FORMAT, 403),
            (dha_result::DHA_ERR_INTEGRITY_BASELINE_SEAL, 404),
            (dha_result::DHA_ERR_INTEGRITY_KEY, 405),
            (dha_result::DHA_ERR_INTEGRITY_INVALID_RECORDS, 406),
            (dha_result::DHA_ERR_INTEGRITY_STORE, 407),
            (dha_result::DHA_ERR_INTEGRITY_RESTORE_REFUSED, 408),
            (dha_result::DHA_ERR_BOOT, 500),
            (dha_result::DHA_ERR_BOOT_READ, 501),
            (dha_result::DHA_ERR_BOOT_WRITE, 502),
            (dha_result::DHA_ERR_BOOT_REFUSED, 503),
            (dha_result::DHA_ERR_INSTALL, 520),
            (dha_result::DHA_ERR_INSTALL_CONFIG, 521),
            (dha_result::DHA_ERR_INSTALL_TARGET, 522),
            (dha_result::DHA_ERR_INSTALL_ROLLBACK, 523),
            (dha_result::DHA_ERR_INSTALL_VETOED, 524),
            (dha_result::DHA_ERR_INSTALL_SOURCE_MISMATCH, 525),
            (dha_result::DHA_ERR_INSTALL_READ_BACK, 526),
            (dha_result::DHA_ERR_INSTALL_IO, 527),
            (dha_result::DHA_ERR_INSTALL_JOURNAL, 528),
            (dha_result::DHA_ERR_INSTALL_FLOOR, 529),
            (dha_result::DHA_ERR_INSTALL_REFUSED, 530),
            (dha_result::DHA_ERR_INSTALL_UNSUPPORTED, 531),
            (dha_result::DHA_ERR_INSTALL_LOCKED, 532),
            (dha_result::DHA_ERR_INSTALL_UNSAFE_ARCHIVE, 533),
            (dha_result::DHA_ERR_EVENTLOG, 600),
            (dha_result::DHA_ERR_EVENTLOG_IO, 601),
            (dha_result::DHA_ERR_EVENTLOG_KEY_FILE, 602),
            (dha_result::DHA_ERR_EVENTLOG_FORMAT, 603),
            (dha_result::DHA_ERR_EVENTLOG_MISMATCH, 604),
            (dha_result::DHA_ERR_EVENTLOG_EXISTS, 605),
            (dha_result::DHA_ERR_EVENTLOG_EVENT, 606),
            (dha_result::DHA_ERR_EVENTLOG_POISONED, 607),
            (dha_result::DHA_ERR_EVENTLOG_RANDOM, 608),
            (dha_result::DHA_ERR_EVENTLOG_TORN_TAIL, 609),
            (dha_result::DHA_ERR_EVENT_UNKNOWN_KIND, 610),
            (dha_result::DHA_ERR_EVENTLOG_BUSY, 611),
            (dha_result::DHA_ERR_SBOM, 700),
            (dha_result::DHA_ERR_SBOM_UNREADABLE, 701),
            (dha_result::DHA_ERR_SBOM_INCOMPLETE, 702),
            (dha_result::DHA_ERR_EVIDENCE_NOTHING_AUDITED, 710),
        ];
        for (r, n) in frozen {
            assert_eq!(r as u32, n, "{r:?}");
            assert_eq!(dha_result::from_u32(n), Some(r));
        }
    }

    #[test]
    fn all_is_sorted_unique_and_complete() {
        let nums: Vec<u32> = ALL.iter().map(|r| *r as u32).collect();
        assert!(nums.windows(2).all(|w| w[0] < w[1]), "{nums:?}");
    }

    #[test]
    fn unknown_numbers_are_described_not_trusted() {
        assert_eq!(dha_result::from_u32(10), None);
        assert_eq!(dha_result::from_u32(u32::MAX), None);
        assert_eq!(message_of(4242), "unknown result code 4242");
    }

    #[test]
    fn message_is_cut_and_always_nul_terminated() {
        let full = dha_result::DHA_ERR_NULL_ARGUMENT.message();
        let mut buf = [0x55 as c_char; 8];
        let mut n = usize::MAX;
        // SAFETY: buf is 8 writable bytes; n is a valid usize.
        let rc = unsafe { dha_result_message(1, buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
        assert_eq!(n, 7);
        assert_eq!(buf[7], 0);
        let got: Vec<u8> = buf[..7].iter().map(|c| c.to_ne_bytes()[0]).collect();
        assert_eq!(got, full.as_bytes()[..7]);

        let mut big = [0x55 as c_char; 256];
        // SAFETY: as above.
        let rc = unsafe { dha_result_message(1, big.as_mut_ptr(), big.len(), &mut n) };
        assert_eq!(rc, dha_result::DHA_OK);
        assert_eq!(n, full.len());
        assert_eq!(big[n], 0);

        // One byte: only the NUL fits.
        let mut one = [0x55 as c_char; 1];
        // SAFETY: as above.
        let rc = unsafe { dha_result_message(0, one.as_mut_ptr(), 1, &mut n) };
        assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
        assert_eq!((n, one[0]), (0, 0));

        // NULL, 0: nothing fits; the caller learns it is short.
        // SAFETY: NULL with length 0 is allowed.
        let rc = unsafe { dha_result_message(0, ptr::null_mut(), 0, &mut n) };
        assert_eq!(rc, dha_result::DHA_ERR_INSUFFICIENT_SIZE);
        assert_eq!(n, 0);

        // NULL out_written: refused, but the buffer is still terminated.
        let mut buf = [0x55 as c_char; 8];
        // SAFETY: as above.
        let rc = unsafe { dha_result_message(0, buf.as_mut_ptr(), 8, ptr::null_mut()) };
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
        assert_eq!(buf[0], 0);
        // SAFETY: NULL with a length is refused before any write.
        let rc = unsafe { dha_result_message(0, ptr::null_mut(), 8, &mut n) };
        assert_eq!(rc, dha_result::DHA_ERR_NULL_ARGUMENT);
    }

    #[test]
    fn every_message_fits_the_documented_maximum() {
        for r in ALL {
            assert!(r.message().len() <= crate::DHA_MESSAGE_MAX, "{r:?}");
        }
    }
}
