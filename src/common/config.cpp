// SPDX-License-Identifier: ISC
#include "common/config.h"

#include "common/address.h"
#include "common/io.h"
#include "common/text.h"

#include <ini.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#ifndef POSTERN_CONFIG_PATH
#define POSTERN_CONFIG_PATH "/etc/postern.conf"
#endif

namespace postern {
namespace {

// State shared between the line reader and the key handler. inih calls
// the handler right after the reader returned the key's line (or its last
// continuation line), so `line` is the key's line number.
struct ParseState {
    std::string_view rest; // the file's text not yet handed to inih
    int line = 0;
    bool too_long = false;
    Config* cfg = nullptr;
    std::set<std::string> seen;
    std::string error; // first error, "file:line: text"
};

std::string lower(std::string s)
{
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<std::string> split_list(const std::string& v) { return split_words(v, ", \t"); }

bool parse_bool(const std::string& v, bool& out)
{
    std::string l = lower(v);
    if (l == "yes" || l == "true" || l == "on" || l == "1")
        out = true;
    else if (l == "no" || l == "false" || l == "off" || l == "0")
        out = false;
    else
        return false;
    return true;
}

bool has_control(const std::string& v)
{
    for (unsigned char c : v)
        if (c < 0x20 || c == 0x7f)
            return true;
    return false;
}

// A decimal number in [lo, hi], nothing else.
bool parse_int(const std::string& v, long lo, long hi, int& out)
{
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || errno || n < lo || n > hi)
        return false;
    out = static_cast<int>(n);
    return true;
}

// Returns "" when the key was taken, else the reason it was refused.
std::string set_key(Config& c, const std::string& sec, const std::string& key, const std::string& v)
{
    auto bad = [&](const char* what) {
        return "bad value '" + printable(v) + "' for " + printable(key) + ": " + what;
    };
    if (has_control(v))
        return "control character in the value of " + printable(key);
    if (!valid_utf8(v) || !valid_utf8(key))
        return "invalid UTF-8 in " + printable(key);
    if (sec == "relay") {
        RelayConfig& r = c.relay;
        if (key == "host") {
            r.hosts = split_list(v);
        } else if (key == "port") {
            if (!parse_int(v, 1, 65535, r.port))
                return bad("expected a port number 1-65535");
        } else if (key == "tls") {
            std::string l = lower(v);
            if (l == "starttls")
                r.tls = TlsMode::StartTls;
            else if (l == "implicit")
                r.tls = TlsMode::Implicit;
            else if (l == "none")
                r.tls = TlsMode::None;
            else
                return bad("expected starttls, implicit or none");
        } else if (key == "tls_verify") {
            if (!parse_bool(v, r.tls_verify))
                return bad("expected yes or no");
        } else if (key == "tls_pin") {
            r.tls_pin = v;
        } else if (key == "ca_file") {
            r.ca_file = v;
        } else if (key == "client_cert") {
            r.client_cert = v;
        } else if (key == "client_key") {
            r.client_key = v;
        } else if (key == "user") {
            r.user = v;
        } else if (key == "password") {
            r.password = v;
        } else if (key == "password_file") {
            r.password_file = v;
        } else if (key == "password_command") {
            r.password_command = v;
        } else if (key == "auth") {
            std::string l = lower(v);
            if (l == "auto")
                r.auth = AuthMode::Auto;
            else if (l == "plain")
                r.auth = AuthMode::Plain;
            else if (l == "login")
                r.auth = AuthMode::Login;
            else if (l == "cram-md5")
                r.auth = AuthMode::CramMd5;
            else if (l == "xoauth2")
                r.auth = AuthMode::XOAuth2;
            else if (l == "none")
                r.auth = AuthMode::None;
            else
                return bad("expected auto, plain, login, cram-md5, xoauth2 or none");
        } else if (key == "timeout") {
            long t = parse_duration(v);
            if (t <= 0)
                return bad("expected a duration such as 60s or 2m");
            r.timeout = t;
        } else if (key == "data_timeout") {
            long t = parse_duration(v);
            if (t <= 0)
                return bad("expected a duration such as 600s or 10m");
            r.data_timeout = t;
        } else if (key == "connections") {
            if (!parse_int(v, 1, 32, r.connections))
                return bad("expected a number of connections 1-32");
        } else {
            return "unknown key '" + printable(key) + "' in [relay]";
        }
    } else if (sec == "sender") {
        if (key == "from") {
            c.sender.from = v;
        } else if (key == "rewrite_from") {
            std::string l = lower(v);
            if (l == "local")
                c.sender.rewrite_from = RewriteFrom::Local;
            else if (l == "always")
                c.sender.rewrite_from = RewriteFrom::Always;
            else if (l == "never")
                c.sender.rewrite_from = RewriteFrom::Never;
            else
                return bad("expected local, always or never");
        } else if (key == "domain") {
            c.sender.domain = v;
        } else {
            return "unknown key '" + printable(key) + "' in [sender]";
        }
    } else if (sec == "local") {
        if (key == "domains") {
            c.local.domains = split_list(lower(v));
        } else if (key == "aliases") {
            c.local.aliases = v;
        } else if (key == "mailbox") {
            if (v.empty())
                return bad("expected a path such as /var/mail/%u or maildir:%h/Maildir");
            c.local.mailbox = v;
        } else if (key == "mail_group") {
            c.local.mail_group = v;
        } else if (key == "lock_timeout") {
            long t = parse_duration(v);
            if (t <= 0)
                return bad("expected a duration such as 300s or 5m");
            c.local.lock_timeout = t;
        } else if (key == "command_user") {
            c.local.command_user = v;
        } else if (key == "command_timeout") {
            long t = parse_duration(v);
            if (t <= 0)
                return bad("expected a duration such as 10m");
            c.local.command_timeout = t;
        } else {
            return "unknown key '" + printable(key) + "' in [local]";
        }
    } else if (sec == "queue") {
        if (key == "dir") {
            if (v.empty() || v[0] != '/')
                return bad("expected an absolute path");
            c.queue.dir = v;
        } else if (key == "lifetime") {
            long t = parse_duration(v);
            if (t <= 0)
                return bad("expected a duration such as 5d");
            c.queue.lifetime = t;
        } else if (key == "max_size") {
            long long s = parse_size(v);
            if (s <= 0)
                return bad("expected a size such as 50M");
            c.queue.max_size = s;
        } else if (key == "min_free") {
            long long s = v == "0" ? 0 : parse_size(v);
            if (s < 0)
                return bad("expected a size such as 4M, or 0");
            c.queue.min_free = s;
        } else if (key == "min_backoff") {
            long t = parse_duration(v);
            if (t <= 0)
                return bad("expected a duration such as 5m");
            c.queue.min_backoff = t;
        } else if (key == "max_backoff") {
            long t = parse_duration(v);
            if (t <= 0)
                return bad("expected a duration such as 4h");
            c.queue.max_backoff = t;
        } else {
            return "unknown key '" + printable(key) + "' in [queue]";
        }
    } else if (sec == "log") {
        if (key == "target") {
            std::string l = lower(v);
            if (l == "syslog") {
                c.log.target = LogTarget::Syslog;
            } else if (l == "stderr") {
                c.log.target = LogTarget::Stderr;
            } else if (!v.empty() && v[0] == '/') {
                c.log.target = LogTarget::File;
                c.log.file = v;
            } else {
                return bad("expected syslog, stderr or an absolute file path");
            }
        } else if (key == "debug") {
            if (!parse_bool(v, c.log.debug))
                return bad("expected yes or no");
        } else {
            return "unknown key '" + printable(key) + "' in [log]";
        }
    } else {
        return "unknown section [" + printable(sec) + "]";
    }
    return {};
}

int handler(void* user, const char* section, const char* name, const char* value)
{
    auto* st = static_cast<ParseState*>(user);
    std::string sec = lower(section), key = lower(name);
    std::string id = sec + "." + key;
    std::string err;
    if (st->seen.count(id))
        err = "duplicate key '" + printable(key) + "' in [" + printable(sec) + "] (first at line " +
              std::to_string(st->cfg->lines[id]) + ")";
    else
        err = set_key(*st->cfg, sec, key, value);
    if (!err.empty()) {
        if (st->error.empty())
            st->error = st->cfg->path + ":" + std::to_string(st->line) + ": " + err;
        return 0;
    }
    st->seen.insert(id);
    st->cfg->lines[id] = st->line;
    return 1;
}

bool known_section(std::string_view s)
{
    return s == "relay" || s == "sender" || s == "local" || s == "queue" || s == "log";
}

// inih's line source, from the file's text in memory. It also refuses
// what inih would take silently: a line longer than inih's buffer (it
// would be split), and a section header naming no known section (inih
// calls the handler only for keys, so "[rela]" with no keys under it
// would pass unnoticed).
char* reader(char* str, int num, void* stream)
{
    auto* st = static_cast<ParseState*>(stream);
    if (st->too_long || st->rest.empty())
        return nullptr;
    size_t eol = st->rest.find('\n');
    size_t len = eol == std::string_view::npos ? st->rest.size() : eol + 1;
    std::string_view line = st->rest.substr(0, len);
    st->rest.remove_prefix(len);
    ++st->line;
    auto refuse = [&](const std::string& why) {
        st->too_long = true;
        if (st->error.empty())
            st->error = st->cfg->path + ":" + std::to_string(st->line) + ": " + why;
        return nullptr;
    };
    if (line.size() > static_cast<size_t>(num - 1))
        return refuse("line too long (at most " + std::to_string(num - 2) + " characters)");
    size_t first = line.find_first_not_of(" \t");
    if (first != std::string_view::npos && line[first] == '[') {
        size_t close = line.find(']', first);
        if (close != std::string_view::npos) {
            std::string name = lower(std::string(line.substr(first + 1, close - first - 1)));
            if (!known_section(name))
                return refuse("unknown section [" + printable(name) + "]");
        }
    }
    std::memcpy(str, line.data(), line.size());
    str[line.size()] = '\0';
    return str;
}

} // namespace

std::string Config::where(const std::string& section_key) const
{
    auto it = lines.find(section_key);
    if (it == lines.end())
        return path;
    return path + ":" + std::to_string(it->second);
}

const std::vector<std::string>& known_config_keys()
{
    // Keep in step with set_key() above.
    static const std::vector<std::string> keys = {
        // [relay]
        "relay.host",
        "relay.port",
        "relay.tls",
        "relay.tls_verify",
        "relay.tls_pin",
        "relay.ca_file",
        "relay.client_cert",
        "relay.client_key",
        "relay.user",
        "relay.password",
        "relay.password_file",
        "relay.password_command",
        "relay.auth",
        "relay.timeout",
        "relay.data_timeout",
        "relay.connections",
        // [sender]
        "sender.from",
        "sender.rewrite_from",
        "sender.domain",
        // [local]
        "local.domains",
        "local.aliases",
        "local.mailbox",
        "local.mail_group",
        "local.lock_timeout",
        "local.command_user",
        "local.command_timeout",
        // [queue]
        "queue.dir",
        "queue.lifetime",
        "queue.max_size",
        "queue.min_free",
        "queue.min_backoff",
        "queue.max_backoff",
        // [log]
        "log.target",
        "log.debug",
    };
    return keys;
}

const char* default_config_path() { return POSTERN_CONFIG_PATH; }

Result<Config> load_config(const std::string& path)
{
    Config cfg;
    cfg.path = path;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return cfg;
        return fail_errno(EX_CONFIG, "open", path);
    }
    struct stat sb;
    if (::fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        ::close(fd);
        return fail(EX_CONFIG, path + ": not a regular file");
    }
    // Read whole (it is small) so that a NUL byte, which would silently
    // cut a line short in a C string, can be refused.
    std::string text;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return fail_errnum(EX_CONFIG, err, "read", path);
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > (1u << 20)) {
            ::close(fd);
            return fail(EX_CONFIG, path + ": larger than 1 MiB");
        }
    }
    ::close(fd);
    size_t nul = text.find('\0');
    if (nul != std::string::npos) {
        int lineno = 1 + static_cast<int>(std::count(text.begin(), text.begin() + nul, '\n'));
        return fail(EX_CONFIG, path + ":" + std::to_string(lineno) + ": NUL byte");
    }
    cfg.file_found = true;
    ParseState st;
    st.rest = text;
    st.cfg = &cfg;
    int rc = ini_parse_stream(reader, &st, handler, &st);
    if (!st.error.empty())
        return fail(EX_CONFIG, st.error);
    if (rc > 0)
        return fail(EX_CONFIG, path + ":" + std::to_string(rc) +
                                   ": syntax error (expected [section] or key = value)");
    if (rc < 0)
        return fail(EX_OSERR, path + ": out of memory while parsing");

    // Cross-key rules.
    const RelayConfig& r = cfg.relay;
    if (!r.tls_verify && r.tls_pin.empty() && r.ca_file.empty())
        return fail(EX_CONFIG, cfg.where("relay.tls_verify") +
                                   ": tls_verify = no needs tls_pin or ca_file (verification is "
                                   "never off without a pinned key)");
    int secrets = !r.password.empty() + !r.password_file.empty() + !r.password_command.empty();
    if (secrets > 1)
        return fail(EX_CONFIG, cfg.where("relay.password_file") +
                                   ": set only one of password, password_file, password_command");
    if (r.auth == AuthMode::XOAuth2 && r.password_command.empty() && r.password_file.empty() &&
        r.password.empty())
        return fail(EX_CONFIG, cfg.where("relay.auth") +
                                   ": auth = xoauth2 needs password_command (it prints the token)");
    if (r.auth != AuthMode::None && r.auth != AuthMode::Auto && r.user.empty())
        return fail(EX_CONFIG, cfg.where("relay.auth") + ": auth needs user");
    if (secrets && r.tls == TlsMode::None && r.auth != AuthMode::None) {
        // A password in clear text over the network is refused (msmtp does
        // the same); a relay on the loopback interface is the exception.
        for (const auto& h : r.hosts)
            if (h != "127.0.0.1" && h != "::1" && h != "[::1]" && h != "localhost")
                return fail(EX_CONFIG, cfg.where("relay.tls") +
                                           ": tls = none with a password would send it in clear "
                                           "text to " +
                                           h + "; use starttls or implicit");
    }
    if (secrets && r.user.empty())
        return fail(EX_CONFIG, cfg.where("relay.user") + ": a password is set but user is not");
    return cfg;
}

long parse_duration(const std::string& s)
{
    if (s.empty())
        return -1;
    char* end = nullptr;
    errno = 0;
    long n = std::strtol(s.c_str(), &end, 10);
    if (errno || end == s.c_str() || n < 0)
        return -1;
    std::string unit = lower(end);
    long mul = 1;
    if (unit.empty() || unit == "s")
        mul = 1;
    else if (unit == "m")
        mul = 60;
    else if (unit == "h")
        mul = 3600;
    else if (unit == "d")
        mul = 86400;
    else if (unit == "w")
        mul = 7 * 86400;
    else
        return -1;
    if (n > (1L << 40) / mul)
        return -1;
    return n * mul;
}

long long min_free_for(const QueueConfig& q, long long fs_size)
{
    if (q.min_free >= 0)
        return q.min_free;
    return std::min<long long>(4LL << 20, fs_size / 16);
}

long long parse_size(const std::string& s)
{
    if (s.empty())
        return -1;
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (errno || end == s.c_str() || n < 0)
        return -1;
    std::string unit = lower(end);
    long long mul = 1;
    if (unit.empty() || unit == "b")
        mul = 1;
    else if (unit == "k")
        mul = 1024;
    else if (unit == "m")
        mul = 1024 * 1024;
    else if (unit == "g")
        mul = 1024LL * 1024 * 1024;
    else
        return -1;
    if (n > (1LL << 50) / mul)
        return -1;
    return n * mul;
}

std::string find_fqdn();
std::string find_hostname();

std::string local_hostname()
{
    // Asked for every recipient's routing; it cannot change while we run.
    static const std::string name = find_hostname();
    return name;
}

std::string find_hostname()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) < 0 || !buf[0])
        return "localhost";
    return lower(buf);
}

std::string local_fqdn()
{
    // The answer cannot change while a program runs; the front end asks
    // several times per message.
    static const std::string fqdn = find_fqdn();
    return fqdn;
}

std::string find_fqdn()
{
    std::string h = local_hostname();
    if (h.find('.') != std::string::npos)
        return h;
    // No DNS here (the front end must not touch the network): look the
    // short name up in /etc/hosts and take the first dotted name beside it.
    auto hosts = read_file(AT_FDCWD, "/etc/hosts", 1 << 20);
    if (hosts) {
        size_t pos = 0;
        const std::string& t = *hosts;
        while (pos < t.size()) {
            size_t eol = t.find('\n', pos);
            if (eol == std::string::npos)
                eol = t.size();
            std::string line = t.substr(pos, eol - pos);
            pos = eol + 1;
            auto hash = line.find('#');
            if (hash != std::string::npos)
                line.resize(hash);
            auto words = split_list(line);
            if (words.size() < 2)
                continue;
            bool has_short = false;
            for (size_t i = 1; i < words.size(); ++i)
                if (lower(words[i]) == h)
                    has_short = true;
            if (!has_short)
                continue;
            for (size_t i = 1; i < words.size(); ++i)
                if (words[i].find('.') != std::string::npos)
                    return lower(words[i]);
        }
    }
    return h;
}

std::string mail_domain(const Config& cfg)
{
    if (!cfg.sender.domain.empty())
        return cfg.sender.domain;
    auto mn = read_file(AT_FDCWD, "/etc/mailname", 4096);
    if (mn) {
        std::string d = *mn;
        while (!d.empty() && (d.back() == '\n' || d.back() == '\r' || d.back() == ' '))
            d.pop_back();
        if (!d.empty() && !has_control(d) && d.find(' ') == std::string::npos)
            return lower(d);
    }
    return local_fqdn();
}

} // namespace postern
