// SPDX-License-Identifier: ISC
#pragma once
// postern.conf: the INI file that says where mail goes (postern.conf(5)).
//
// Read with inih through a line-counting reader so every error names
// file:line. An unknown section or key, a bad value, a duplicate key or a
// line too long for inih is an error (EX_CONFIG): a typo must never silently
// change where mail goes. A missing file is not an error: the defaults
// serve (local delivery only; relay mail stays queued, "no relay configured").
// The loader never reads secrets; postern-send resolves them (send/secret.h).

#include "common/result.h"

#include <map>
#include <string>
#include <vector>

namespace postern {

enum class TlsMode { StartTls, Implicit, None };
enum class AuthMode { Auto, Plain, Login, CramMd5, XOAuth2, None };
enum class RewriteFrom { Local, Always, Never };
enum class LogTarget { Syslog, Stderr, File };

struct RelayConfig {
    std::vector<std::string> hosts; // empty: no relay configured
    int port = 0;                   // 0: 587, or 465 with tls = implicit
    TlsMode tls = TlsMode::StartTls;
    bool tls_verify = true;
    std::string tls_pin; // sha256//base64[;sha256//...]
    std::string ca_file;
    std::string client_cert;
    std::string client_key;
    std::string user;
    std::string password; // inline secret: only postern-send looks at it
    std::string password_file;
    std::string password_command;
    AuthMode auth = AuthMode::Auto;
    long timeout = 60;       // seconds: connect and each reply
    long data_timeout = 600; // seconds: the reply after the final dot
    int connections = 4;     // at most this many at once per queue run (1-32)

    int effective_port() const { return port ? port : (tls == TlsMode::Implicit ? 465 : 587); }
};

struct SenderConfig {
    std::string from; // envelope sender for relayed mail; empty: keep
    RewriteFrom rewrite_from = RewriteFrom::Local;
    std::string domain; // empty: /etc/mailname, else the FQDN
};

struct LocalConfig {
    std::vector<std::string> domains = {"localhost"};
    std::string aliases = "/etc/aliases";
    std::string mailbox = "/var/mail/%u";
    std::string mail_group = "mail";     // group of new mbox files
    long lock_timeout = 300;             // seconds to wait for a mailbox lock
    std::string command_user = "nobody"; // runs |command alias targets
    long command_timeout = 600;
};

struct QueueConfig {
    std::string dir = "/var/spool/postern";
    long lifetime = 5 * 86400;        // seconds, then bounce
    long long max_size = 100LL << 20; // bytes per message
    // Free space a submission must leave in the spool's file system: the
    // queue runner's reserve for delivery state and reports (Postfix's
    // queue_minfree). -1: the default, 1/16 of the file system, at most
    // 4 MiB (min_free_for()).
    long long min_free = -1;
    long min_backoff = 300;      // first retry after
    long max_backoff = 4 * 3600; // retry interval cap
};

struct LogConfig {
    LogTarget target = LogTarget::Syslog;
    std::string file;
    bool debug = false;
};

struct Config {
    std::string path;        // the file read (or that would have been)
    bool file_found = false; // false: all defaults
    RelayConfig relay;
    SenderConfig sender;
    LocalConfig local;
    QueueConfig queue;
    LogConfig log;
    // "section.key" -> line number, for errors found after loading
    // ("password_file ... (postern.conf:7)").
    std::map<std::string, int> lines;

    // "file:line" of a key, or the file name when the key is absent.
    std::string where(const std::string& section_key) const;
};

// Every "section.key" the loader takes, in the order of postern.conf(5)
// and etc/postern.conf (tests check both against this list, and a unit
// test checks that load_config knows exactly these).
const std::vector<std::string>& known_config_keys();

// The default path, /etc/postern.conf (the build may change it).
const char* default_config_path();

// Loads path. Errors: EX_CONFIG "file:line: ..." for any content problem,
// EX_CONFIG "file: Permission denied" when it exists but cannot be read.
Result<Config> load_config(const std::string& path);

// The free space a submission must leave on a file system of fs_size
// octets under cfg ([queue] min_free, or its default).
long long min_free_for(const QueueConfig& q, long long fs_size);

// Parses a duration: "60", "60s", "10m", "2h", "5d". Returns -1 if invalid.
long parse_duration(const std::string& s);
// Parses a size: "1000", "10k", "10M", "1G". Returns -1 if invalid.
long long parse_size(const std::string& s);

// Host name facts, read without DNS: gethostname(), and the FQDN from the
// host name or /etc/hosts.
std::string local_hostname();
std::string local_fqdn();
// The domain bare names are qualified with: [sender] domain, else
// /etc/mailname, else the FQDN.
std::string mail_domain(const Config& cfg);

} // namespace postern
