// SPDX-License-Identifier: ISC
#include "submit/import.h"

#include "common/address.h"
#include "common/config.h"
#include "common/io.h"
#include "common/log.h"
#include "common/text.h"
#include "common/unique_fd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <map>

namespace postern::submit {
namespace {

constexpr const char* secret_path = "/etc/postern.secret";

std::string trim(const std::string& s)
{
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return "";
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos)
            eol = text.size();
        out.push_back(trim(text.substr(pos, eol - pos)));
        pos = eol + 1;
    }
    return out;
}

bool yes(const std::string& v)
{
    std::string l = to_lower(v);
    return l == "yes" || l == "on" || l == "true" || l == "1";
}

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "host", "host:port", "[v6]:port" -> host, port ("" when absent).
std::pair<std::string, std::string> split_host_port(const std::string& v)
{
    if (!v.empty() && v[0] == '[') {
        auto close = v.find(']');
        if (close != std::string::npos) {
            std::string rest = v.substr(close + 1);
            return {v.substr(1, close - 1),
                    rest.size() > 1 && rest[0] == ':' ? rest.substr(1) : ""};
        }
    }
    auto colon = v.rfind(':');
    if (colon == std::string::npos || v.find(':') != colon)
        return {v, ""};
    return {v.substr(0, colon), v.substr(colon + 1)};
}

bool valid_port(const std::string& p)
{
    if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit))
        return false;
    long n = std::stol(p);
    return n >= 1 && n <= 65535;
}

void set_port(ImportedConfig& c, const std::string& p, const std::string& origin)
{
    if (valid_port(p))
        c.set("relay.port", p);
    else
        c.not_carried(origin + " " + p + " (not a port number)");
}

void set_password_file(ImportedConfig& c, const std::string& origin)
{
    c.set("relay.password_file", secret_path);
    c.comment("relay.password_file", std::string("The password from ") + origin +
                                         " is not copied here. Put it alone on\n"
                                         "the first line of " +
                                         secret_path + ", owner postern, mode 0600.");
}

// A command that needs no shell: no quoting, expansion, redirection,
// pipes or variable assignments.
bool shell_free(const std::string& cmd)
{
    if (cmd.find_first_of("|&;<>()$`\\\"'*?[]#~{}!\n") != std::string::npos)
        return false;
    auto w = split_words(cmd);
    return !w.empty() && w[0].find('=') == std::string::npos;
}

// postern runs password_command by its full path, never through PATH:
// resolve the program name here, on the admin's machine.
std::string resolve_program(const std::string& name)
{
    if (name.find('/') != std::string::npos)
        return name[0] == '/' && ::access(name.c_str(), X_OK) == 0 ? name : "";
    for (const char* dir :
         {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        std::string p = std::string(dir) + "/" + name;
        if (::access(p.c_str(), X_OK) == 0)
            return p;
    }
    return "";
}

void set_password_command(ImportedConfig& c, const std::string& cmd, const std::string& origin)
{
    auto w = split_words(cmd);
    std::string prog = shell_free(cmd) ? resolve_program(w[0]) : "";
    if (prog.empty()) {
        set_password_file(c, origin + " (a shell command, which postern does not run)");
        c.comment("relay.password_file",
                  "Or put the command into an executable script and set\n"
                  "password_command = /path/to/script (it runs as user postern, without a\n"
                  "shell, with a clean environment; its first output line is the password).");
        c.not_carried(origin + " " + cmd +
                      " (needs a shell, or the program was not found: see password_file)");
        return;
    }
    std::string line = prog;
    for (size_t i = 1; i < w.size(); ++i)
        line += " " + w[i];
    c.set("relay.password_command", line);
    c.comment("relay.password_command",
              "From " + origin +
                  ". It runs as user postern, without a shell, with a\n"
                  "clean environment (no HOME, no agent): check that it works that way.");
}

// ssmtp.conf(5): Key=Value lines; revaliases: user:from[:mailhub[:port]].
void from_ssmtp(ImportedConfig& c, const std::string& path, const std::string& text,
                SiblingReader sibling)
{
    bool use_tls = false, starttls = false;
    std::string hub, domain, hostname;
    for (const auto& line : lines_of(text)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto eq = line.find('=');
        std::string key = to_lower(trim(line.substr(0, eq)));
        std::string v = eq == std::string::npos ? "" : trim(line.substr(eq + 1));
        if (key == "root") {
            c.not_carried("root=" + v + " (put \"root: " + v + "\" in /etc/aliases)");
        } else if (key == "mailhub") {
            auto [h, p] = split_host_port(v);
            hub = h;
            c.set("relay.host", h);
            if (!p.empty())
                set_port(c, p, "mailhub port");
        } else if (key == "rewritedomain") {
            domain = v;
        } else if (key == "hostname") {
            hostname = v;
        } else if (key == "usetls") {
            use_tls = yes(v);
            starttls = starttls && use_tls;
        } else if (key == "usestarttls") {
            starttls = yes(v);
            use_tls = use_tls || starttls;
        } else if (key == "tlscert") {
            c.set("relay.client_cert", v);
        } else if (key == "tlskey") {
            c.set("relay.client_key", v);
        } else if (key == "tls_ca_file") {
            c.set("relay.ca_file", v);
        } else if (key == "tls_ca_dir") {
            c.not_carried("TLS_CA_Dir=" + v + " (postern takes one CA file: set ca_file)");
        } else if (key == "authuser") {
            c.set("relay.user", v);
        } else if (key == "authpass") {
            if (!v.empty())
                set_password_file(c, "AuthPass");
        } else if (key == "authmethod") {
            if (to_lower(v) == "cram-md5")
                c.set("relay.auth", "cram-md5");
            else
                c.not_carried("AuthMethod=" + v + " (postern picks the method: auth = auto)");
        } else if (key == "debug") {
            if (yes(v))
                c.set("log.debug", "yes");
        } else if (key == "fromlineoverride") {
            c.not_carried("FromLineOverride=" + v +
                          " (postern keeps a From header the sender wrote, except local ones "
                          "when [sender] from is set: see rewrite_from)");
        } else {
            c.not_carried(key);
        }
    }
    c.set("relay.tls", use_tls ? (starttls ? "starttls" : "implicit") : "none");
    if (!c.has("relay.port") && !hub.empty())
        c.set("relay.port", use_tls && !starttls ? "465" : "25");
    if (!domain.empty() || !hostname.empty())
        c.set("sender.domain", domain.empty() ? hostname : domain);

    std::string rev = sibling(dir_of(path) + "/revaliases");
    std::vector<std::vector<std::string>> entries;
    for (const auto& line : lines_of(rev)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::vector<std::string> f;
        size_t pos = 0;
        for (size_t colon; (colon = line.find(':', pos)) != std::string::npos; pos = colon + 1)
            f.push_back(trim(line.substr(pos, colon - pos)));
        f.push_back(trim(line.substr(pos)));
        if (f.size() >= 2 && !f[1].empty())
            entries.push_back(f);
    }
    // One envelope sender: root's (cron and daemons mail as root), else the first.
    std::string from;
    for (const auto& e : entries)
        if (e[0] == "root")
            from = e[1];
    if (from.empty() && !entries.empty())
        from = entries.front()[1];
    for (const auto& e : entries) {
        if (e[1] != from)
            c.not_carried("revaliases " + e[0] + ":" + e[1] +
                          " (postern has one envelope sender for relayed mail)");
        if (e.size() >= 3 && !e[2].empty() && e[2] != hub)
            c.not_carried("revaliases " + e[0] + " mailhub " + e[2] + " (postern has one relay)");
    }
    if (!from.empty())
        c.set("sender.from", from);
}

// msmtprc(5): "command argument" lines, "defaults", "account NAME [: PARENT,...]".
using Account = std::map<std::string, std::string>;

std::string unquote(const std::string& v)
{
    if (v.size() < 2 || v[0] != '"')
        return v;
    std::string out;
    for (size_t i = 1; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size())
            out += v[++i];
        else if (v[i] == '"')
            break;
        else
            out += v[i];
    }
    return out;
}

void from_msmtp(ImportedConfig& c, const std::string& text)
{
    Account defaults;
    std::vector<std::pair<std::string, Account>> accounts;
    std::map<std::string, std::vector<std::string>> parents_of;
    Account* cur = &defaults;
    for (const auto& line : lines_of(text)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto sp = line.find_first_of(" \t");
        std::string cmd = line.substr(0, sp);
        std::string arg = sp == std::string::npos ? "" : unquote(trim(line.substr(sp)));
        if (cmd == "defaults") {
            cur = &defaults;
        } else if (cmd == "account") {
            auto colon = arg.find(':');
            std::string name = trim(arg.substr(0, colon));
            Account a = defaults;
            if (colon != std::string::npos) {
                // "account name : parent1, parent2": the parents' settings, in order.
                std::string parents = arg.substr(colon + 1);
                std::replace(parents.begin(), parents.end(), ',', ' ');
                parents_of[name] = split_words(parents);
                for (const auto& pn : split_words(parents))
                    for (const auto& [n, acc] : accounts)
                        if (n == pn)
                            for (const auto& [k, v] : acc)
                                a[k] = v;
            }
            accounts.emplace_back(name, a);
            cur = &accounts.back().second;
        } else {
            (*cur)[cmd] = arg;
        }
    }
    const Account* chosen = &defaults;
    std::string chosen_name;
    for (const auto& [n, a] : accounts)
        if (n == "default") {
            chosen = &a;
            chosen_name = n;
        }
    if (chosen_name.empty() && !accounts.empty()) {
        chosen = &accounts.front().second;
        chosen_name = accounts.front().first;
    }
    const auto& used = parents_of[chosen_name];
    for (const auto& [n, a] : accounts)
        if (n != chosen_name && std::find(used.begin(), used.end(), n) == used.end())
            c.not_carried("account " + n +
                          " (postern relays through one account; imported: " + chosen_name + ")");
    if (!chosen_name.empty())
        c.note("Imported from msmtp account \"" + chosen_name + "\"" +
               (used.empty() ? std::string() : " (from \"" + used.front() + "\")") + ".");

    const Account& a = *chosen;
    auto get = [&](const char* k) { return a.count(k) ? a.at(k) : std::string(); };
    bool tls = yes(get("tls"));
    bool starttls = a.count("tls_starttls") ? yes(get("tls_starttls")) : true;
    for (const auto& [k, v] : a) {
        if (k == "host") {
            c.set("relay.host", v);
        } else if (k == "port") {
            set_port(c, v, "port");
        } else if (k == "tls" || k == "tls_starttls") {
            // Combined below.
        } else if (k == "tls_trust_file") {
            if (v != "system" && !v.empty())
                c.set("relay.ca_file", v);
        } else if (k == "tls_fingerprint") {
            c.not_carried("tls_fingerprint " + v +
                          " (a certificate fingerprint; postern pins the public key: "
                          "tls_pin = sha256//..., see postern.conf(5))");
        } else if (k == "tls_certcheck") {
            if (!yes(v))
                c.not_carried("tls_certcheck off (postern always verifies: set ca_file or "
                              "tls_pin)");
        } else if (k == "tls_cert_file") {
            c.set("relay.client_cert", v);
        } else if (k == "tls_key_file") {
            c.set("relay.client_key", v);
        } else if (k == "auth") {
            std::string l = to_lower(v);
            if (l == "on")
                c.set("relay.auth", "auto");
            else if (l == "off")
                c.set("relay.auth", "none");
            else if (l == "plain" || l == "login" || l == "cram-md5" || l == "xoauth2")
                c.set("relay.auth", l);
            else
                c.not_carried("auth " + v + " (not supported: auth = auto picks a method)");
        } else if (k == "user") {
            c.set("relay.user", v);
        } else if (k == "password") {
            if (!v.empty())
                set_password_file(c, "msmtp's password");
        } else if (k == "passwordeval") {
            set_password_command(c, v, "passwordeval");
        } else if (k == "from") {
            if (v.find_first_of("%*?[") == std::string::npos)
                c.set("sender.from", v);
            else
                c.not_carried("from " + v + " (a pattern; postern needs one address)");
        } else if (k == "maildomain") {
            c.set("sender.domain", v);
        } else if (k == "timeout") {
            if (v != "off" && parse_duration(v) > 0)
                c.set("relay.timeout", v);
        } else if (k == "aliases") {
            c.set("local.aliases", v);
        } else if (k == "syslog") {
            if (v != "off")
                c.set("log.target", "syslog");
        } else if (k == "logfile") {
            c.not_carried("logfile " + v + " (postern logs to syslog: [log] target)");
        } else {
            c.not_carried(k);
        }
    }
    c.set("relay.tls", tls ? (starttls ? "starttls" : "implicit") : "none");
    if (!c.has("relay.port") && c.has("relay.host"))
        c.set("relay.port", tls && !starttls ? "465" : "25");
}

// dma.conf: "KEY value" or "KEY" lines; auth.conf: "user|host:password".
void from_dma(ImportedConfig& c, const std::string& path, const std::string& text,
              SiblingReader sibling)
{
    bool secure = false, starttls = false;
    std::string host, authpath;
    for (const auto& line : lines_of(text)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto sp = line.find_first_of(" \t");
        std::string key = line.substr(0, sp);
        std::string v = sp == std::string::npos ? "" : trim(line.substr(sp));
        if (key == "SMARTHOST") {
            host = v;
            c.set("relay.host", v);
        } else if (key == "PORT") {
            set_port(c, v, "PORT");
        } else if (key == "ALIASES") {
            c.set("local.aliases", v);
        } else if (key == "AUTHPATH") {
            authpath = v;
        } else if (key == "SECURETRANSFER") {
            secure = true;
        } else if (key == "STARTTLS") {
            starttls = true;
        } else if (key == "OPPORTUNISTIC_TLS") {
            c.not_carried("OPPORTUNISTIC_TLS (postern never falls back to plain text)");
        } else if (key == "CERTFILE") {
            c.set("relay.client_cert", v);
        } else if (key == "MAILNAME") {
            if (v.empty() || v[0] != '/')
                c.set("sender.domain", v);
            else if (v != "/etc/mailname")
                c.not_carried("MAILNAME " + v + " (set [sender] domain to its content)");
        } else if (key == "MASQUERADE") {
            auto at = v.find('@');
            if (at == std::string::npos)
                c.set("sender.domain", v);
            else if (at + 1 < v.size() && at > 0)
                c.set("sender.from", v);
            else
                c.not_carried("MASQUERADE " + v + " (postern needs a whole address or a domain)");
        } else if (key == "NULLCLIENT") {
            c.not_carried("NULLCLIENT (postern delivers local users locally; send root's mail "
                          "away with \"root: you@example.com\" in /etc/aliases)");
        } else if (key == "SPOOLDIR") {
            c.not_carried("SPOOLDIR " + v + " (postern has its own spool: [queue] dir)");
        } else if (key == "INSECURE") {
            c.not_carried("INSECURE (postern never sends a password without TLS)");
        } else if (key == "DEFER") {
            c.not_carried("DEFER (postern queues every message; -odq queues without an attempt)");
        } else {
            c.not_carried(key);
        }
    }
    c.set("relay.tls", secure ? (starttls ? "starttls" : "implicit") : "none");
    if (!c.has("relay.port") && !host.empty())
        c.set("relay.port", "25");

    std::string auth =
        sibling(dir_of(path) + "/" + (authpath.empty() ? "auth.conf" : base_of(authpath)));
    for (const auto& line : lines_of(auth)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto bar = line.find('|');
        auto colon = line.find(':', bar == std::string::npos ? 0 : bar);
        if (bar == std::string::npos || colon == std::string::npos)
            continue;
        std::string user = line.substr(0, bar), h = line.substr(bar + 1, colon - bar - 1);
        if (to_lower(h) == to_lower(host) && !c.has("relay.user")) {
            c.set("relay.user", user);
            if (colon + 1 < line.size())
                set_password_file(c, "auth.conf");
        } else {
            c.not_carried("auth.conf entry for " + user + "|" + h + " (not the SMARTHOST)");
        }
    }
}

// nullmailer: remotes ("host protocol --opt=value ..."), me, defaulthost,
// defaultdomain, adminaddr, allmailfrom.
void from_nullmailer(ImportedConfig& c, const std::string& path, const std::string& text,
                     SiblingReader sibling)
{
    std::vector<std::string> first_opts;
    bool have_first = false;
    for (const auto& line : lines_of(text)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto w = split_words(line);
        std::string proto = w.size() > 1 ? to_lower(w[1]) : "smtp";
        std::vector<std::string> opts(w.begin() + std::min<size_t>(2, w.size()), w.end());
        if (proto != "smtp") {
            c.not_carried("remote " + w[0] + " " + proto + " (postern speaks SMTP only)");
            continue;
        }
        if (have_first) {
            if (opts == first_opts)
                c.set("relay.host", c.get("relay.host") + ", " + w[0]);
            else
                c.not_carried("remote " + w[0] +
                              " (other settings than the first remote; "
                              "postern's hosts share one set)");
            continue;
        }
        have_first = true;
        first_opts = opts;
        c.set("relay.host", w[0]);
        bool ssl = false, starttls = false;
        for (auto o : opts) {
            if (o.rfind("--", 0) == 0)
                o = o.substr(2);
            auto eq = o.find('=');
            std::string k = o.substr(0, eq), v = eq == std::string::npos ? "" : o.substr(eq + 1);
            if (k == "port")
                set_port(c, v, "--port");
            else if (k == "user")
                c.set("relay.user", v);
            else if (k == "pass")
                set_password_file(c, "--pass");
            else if (k == "auth-login")
                c.set("relay.auth", "login");
            else if (k == "ssl")
                ssl = true;
            else if (k == "starttls")
                starttls = true;
            else if (k == "x509cafile")
                c.set("relay.ca_file", v);
            else if (k == "x509certfile")
                c.set("relay.client_cert", v);
            else if (k == "insecure")
                c.not_carried("--insecure (postern always verifies: set ca_file or tls_pin)");
            else
                c.not_carried("--" + k);
        }
        c.set("relay.tls", ssl ? "implicit" : starttls ? "starttls" : "none");
        if (!c.has("relay.port"))
            c.set("relay.port", ssl ? "465" : "25");
    }

    std::string dir = dir_of(path);
    auto file = [&](const char* name) {
        return trim(lines_of(sibling(dir + "/" + name) + "\n")[0]);
    };
    std::string me = file("me"), defaulthost = file("defaulthost");
    std::string defaultdomain = file("defaultdomain");
    std::string domain = defaulthost.empty() ? me : defaulthost;
    if (!domain.empty() && domain.find('.') == std::string::npos && !defaultdomain.empty())
        domain += "." + defaultdomain;
    if (!domain.empty())
        c.set("sender.domain", domain);
    std::string admin = file("adminaddr");
    if (!admin.empty())
        c.not_carried("adminaddr " + admin + " (put \"root: " + admin +
                      "\" in /etc/aliases: postern delivers local users locally)");
    std::string from = file("allmailfrom");
    if (!from.empty())
        c.set("sender.from", from);
}

bool is_loopback(const std::string& h)
{
    return h == "127.0.0.1" || h == "::1" || h == "[::1]" || h == "localhost";
}

// Rules the loader enforces across keys (load_config), applied so that
// the output loads; each change is said in a comment.
void finish(ImportedConfig& c)
{
    bool secret = c.has("relay.password_file") || c.has("relay.password_command");
    if (secret && !c.has("relay.user")) {
        c.erase("relay.password_file");
        c.erase("relay.password_command");
        c.not_carried("a password without a user name");
        secret = false;
    }
    std::string auth = c.get("relay.auth");
    if (!c.has("relay.user") && !auth.empty() && auth != "auto" && auth != "none") {
        c.erase("relay.auth");
        c.not_carried("auth " + auth + " without a user name");
    }
    if (secret && c.get("relay.tls") == "none") {
        bool remote = false;
        for (const auto& h : split_words(c.get("relay.host")))
            if (!is_loopback(h.back() == ',' ? h.substr(0, h.size() - 1) : h))
                remote = true;
        if (remote) {
            c.set("relay.tls", "starttls");
            c.comment("relay.tls", "The old configuration sent the password without TLS; "
                                   "postern refuses\nthat, so STARTTLS is required here.");
        }
    }
    if (!c.has("relay.host"))
        c.note("No relay host found: remote mail will stay queued (\"no relay configured\").");
    else if (c.get("relay.tls") != "none")
        c.note("postern checks the relay's certificate and host name: if --check reports\n"
               "a certificate error, set ca_file or tls_pin.");
}

std::string read_sibling(const std::string& path)
{
    auto r = read_file(AT_FDCWD, path, 1 << 20);
    return r ? *r : std::string();
}

// Comment lines, wrapped at 78 columns: the loader refuses lines over
// 198 characters, comments included. `lead` starts the first line.
void add_comment(std::string& out, const std::string& text, const std::string& lead = "")
{
    bool first = true;
    for (const auto& l : lines_of(text + "\n")) {
        std::string line = "; " + (first ? lead : std::string());
        first = false;
        for (const auto& w : split_words(l)) {
            if (line.size() + w.size() > 78 && line.size() > 8) {
                out += line + "\n";
                line = ";     ";
            }
            line += (line.back() == ' ' ? "" : " ") + w;
        }
        out += line + "\n";
    }
}

// Loads text as a postern.conf, through a memory file so nothing is
// written to disk.
Status check_loads(const std::string& text)
{
    UniqueFd fd(::memfd_create("postern-import", MFD_CLOEXEC));
    if (!fd.valid())
        return fail_errno(EX_OSERR, "memfd_create", "postern-import");
    Status st = write_all(fd.get(), text, "postern-import");
    if (!st)
        return st;
    std::string path = "/proc/self/fd/" + std::to_string(fd.get());
    auto cfg = load_config(path);
    if (!cfg) {
        std::string why = cfg.error().text;
        if (why.rfind(path, 0) == 0)
            why = "the imported configuration" + why.substr(path.size());
        return fail(EX_SOFTWARE, why);
    }
    return {};
}

} // namespace

void ImportedConfig::set(const std::string& key, const std::string& value)
{
    const auto& known = known_config_keys();
    if (std::find(known.begin(), known.end(), key) == known.end())
        panic("import: unknown config key " + key);
    std::string v = trim(value);
    bool control = std::any_of(v.begin(), v.end(), [](char ch) {
        return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
    });
    if (control || v.find(" ;") != std::string::npos || v.find("\t;") != std::string::npos ||
        v.size() > 150) {
        not_carried(key.substr(key.find('.') + 1) +
                    " (its value cannot be written in postern.conf)");
        return;
    }
    for (auto& [k, old] : values_)
        if (k == key) {
            old = v;
            return;
        }
    values_.emplace_back(key, v);
}

bool ImportedConfig::has(const std::string& key) const
{
    return std::any_of(values_.begin(), values_.end(),
                       [&](const auto& p) { return p.first == key; });
}

std::string ImportedConfig::get(const std::string& key) const
{
    for (const auto& [k, v] : values_)
        if (k == key)
            return v;
    return "";
}

void ImportedConfig::erase(const std::string& key)
{
    std::erase_if(values_, [&](const auto& p) { return p.first == key; });
    std::erase_if(comments_, [&](const auto& p) { return p.first == key; });
}

void ImportedConfig::comment(const std::string& key, const std::string& text)
{
    comments_.emplace_back(key, text);
}

std::string ImportedConfig::render(const std::string& source, const std::string& format) const
{
    std::string out;
    add_comment(out, "postern.conf made by \"postern --import\" from " + source + " (" + format +
                         ").\nCheck it with: postern -C <this file> --check");
    for (const auto& n : notes_)
        add_comment(out, n);
    std::string section;
    for (const auto& key : known_config_keys()) {
        if (!has(key))
            continue;
        std::string sec = key.substr(0, key.find('.'));
        if (sec != section) {
            out += "\n[" + sec + "]\n";
            section = sec;
        }
        for (const auto& [k, text] : comments_)
            if (k == key)
                add_comment(out, text);
        out += key.substr(sec.size() + 1) + " = " + get(key) + "\n";
    }
    if (!dropped_.empty())
        out += "\n";
    for (const auto& d : dropped_)
        add_comment(out, d, "not carried over: ");
    return out;
}

std::string guess_format(const std::string& path, const std::string& text)
{
    std::string name = base_of(path);
    if (name.find("ssmtp") != std::string::npos)
        return "ssmtp";
    if (name.find("msmtprc") != std::string::npos)
        return "msmtp";
    if (name == "dma.conf")
        return "dma";
    if (name == "remotes")
        return "nullmailer";
    for (const auto& line : lines_of(text)) {
        if (line.empty() || line[0] == '#')
            continue;
        auto w = split_words(line);
        std::string first = to_lower(line.substr(0, line.find_first_of("= \t")));
        if (line.find('=') != std::string::npos &&
            (first == "mailhub" || first == "authuser" || first == "usestarttls" ||
             first == "rewritedomain"))
            return "ssmtp";
        if (w[0] == "account" || w[0] == "defaults" || w[0] == "tls_starttls")
            return "msmtp";
        if (w[0] == "SMARTHOST")
            return "dma";
        if (w.size() >= 2 && (w[1] == "smtp" || w[1] == "qmqp"))
            return "nullmailer";
    }
    return "";
}

ImportedConfig convert(const std::string& format, const std::string& path, const std::string& text,
                       SiblingReader sibling)
{
    ImportedConfig c;
    if (format == "ssmtp")
        from_ssmtp(c, path, text, sibling);
    else if (format == "msmtp")
        from_msmtp(c, text);
    else if (format == "dma")
        from_dma(c, path, text, sibling);
    else if (format == "nullmailer")
        from_nullmailer(c, path, text, sibling);
    finish(c);
    return c;
}

Result<int> run_import(const std::string& path, const std::string& format)
{
    auto text = read_file(AT_FDCWD, path, 1 << 20);
    if (!text)
        return fail(EX_NOINPUT, text.error().text);
    std::string f = format.empty() ? guess_format(path, *text) : format;
    if (f.empty())
        return fail(EX_USAGE, path + ": cannot tell whether this is an ssmtp, msmtp, dma or "
                                     "nullmailer file; say which with --format");
    ImportedConfig c = convert(f, path, *text, read_sibling);
    std::string out = c.render(path, f);
    Status st = check_loads(out);
    if (!st)
        return st.error();
    st = write_all(STDOUT_FILENO, out, "standard output");
    if (!st)
        return st.error();
    return 0;
}

} // namespace postern::submit
