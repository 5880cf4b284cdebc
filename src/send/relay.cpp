// SPDX-License-Identifier: ISC
#include "send/relay.h"

#include "send/curl_handle.h"
#include "send/transcript.h"

#include "common/config.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <map>
#include <netdb.h>
#include <set>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace postern::send {

struct RelaySession::State {
    Config cfg;
    std::string secret;
    bool verbose = false;
    bool credentials = false; // user + secret, auth != none
    size_t host = 0;          // the host in use; moves on after a connect failure
    char errbuf[CURL_ERROR_SIZE] = {};
    std::set<curl_socket_t> sockets;
    Redactor redactor;
    std::map<size_t, std::string> ehlo_names; // per host index, see ehlo_name()

    // Per transfer.
    Exchange x;
    Stage stage = Stage::Greeting;
    Reply cur; // reply being assembled from continuation lines
    bool starttls_sent = false;
    bool ehlo_auth = false;
    bool ehlo_starttls = false;
    std::string mechanisms;
    MessageSource src;
    long long pos = 0;
    long last_event_ms = 0;
    std::string read_error;
    // TLS facts for --check, taken while the connection is up.
    std::string tls_version, cert_subject, cert_issuer;
    int ca_dir = -1; // hashed_ca_dir(): -1 not looked at yet, 0 no, 1 yes

    // Last, so they are destroyed first: libcurl calls back into the
    // fields above (close socket, QUIT reply) while it cleans up.
    CurlMulti multi;
    CurlEasy easy;
};

namespace {

// A user, a secret and an auth mode other than none: then the relay must
// offer AUTH, and a relay that does not is refused.
bool configured_credentials(const RelaySession::State& s)
{
    return !s.cfg.relay.user.empty() && !s.secret.empty() && s.cfg.relay.auth != AuthMode::None;
}

} // namespace

namespace {

using State = RelaySession::State;
constexpr size_t max_reply_text = 512;

long now_ms()
{
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool starts_with(std::string_view s, std::string_view p)
{
    if (s.size() < p.size())
        return false;
    for (size_t i = 0; i < p.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(s[i])) != p[i])
            return false;
    return true;
}

// A client command: which step of the dialogue the next replies answer.
void on_command(State& s, std::string_view line)
{
    s.last_event_ms = now_ms();
    if (s.stage == Stage::Auth && !starts_with(line, "MAIL ") && !starts_with(line, "QUIT") &&
        !starts_with(line, "EHLO") && !starts_with(line, "HELO"))
        return; // a SASL continuation line
    if (starts_with(line, "EHLO") || starts_with(line, "HELO")) {
        s.stage = Stage::Ehlo;
        s.ehlo_auth = false;
        s.ehlo_starttls = false;
        s.mechanisms.clear();
    } else if (starts_with(line, "STARTTLS")) {
        s.stage = Stage::StartTls;
        s.starttls_sent = true;
    } else if (starts_with(line, "AUTH")) {
        s.stage = Stage::Auth;
    } else if (starts_with(line, "MAIL FROM")) {
        s.stage = Stage::Mail;
        s.x.mail_sent = true;
    } else if (starts_with(line, "RCPT TO")) {
        s.stage = Stage::Rcpt;
        // Bounded: one slot per recipient we gave libcurl (<= max_rcpts).
        if (s.x.rcpt.size() < max_rcpts)
            s.x.rcpt.emplace_back();
    } else if (starts_with(line, "DATA")) {
        s.stage = Stage::Data;
    } else {
        s.stage = Stage::Quit; // QUIT, NOOP, RSET: replies not needed
    }
}

// Records the TLS version and peer certificate of the live connection.
void note_tls(State& s)
{
    struct curl_tlssessioninfo* info = nullptr;
    if (!s.tls_version.empty() ||
        curl_easy_getinfo(s.easy.get(), CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || !info ||
        info->backend != CURLSSLBACKEND_OPENSSL || !info->internals)
        return;
    SSL* ssl = static_cast<SSL*>(info->internals);
    s.tls_version = SSL_get_version(ssl);
    if (X509* cert = SSL_get1_peer_certificate(ssl)) {
        char buf[512];
        X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
        s.cert_subject = buf;
        X509_NAME_oneline(X509_get_issuer_name(cert), buf, sizeof buf);
        s.cert_issuer = buf;
        X509_free(cert);
    }
}

// A complete reply: file it under the step it answers. Returns false to
// abort the transfer.
bool on_reply(State& s, Reply r)
{
    switch (s.stage) {
    case Stage::Greeting:
        s.x.greeting = std::move(r);
        break;
    case Stage::Ehlo: {
        int code = r.code;
        if (s.starttls_sent || s.cfg.relay.tls == TlsMode::Implicit)
            note_tls(s);
        s.x.ehlo = std::move(r);
        bool tls_ready = s.cfg.relay.tls != TlsMode::StartTls || s.starttls_sent;
        if (code == 250 && s.credentials && tls_ready && !s.ehlo_auth) {
            // libcurl 7.88 would go on to MAIL FROM unauthenticated.
            s.x.no_auth = true;
            return false;
        }
        break;
    }
    case Stage::StartTls:
        s.x.starttls = std::move(r);
        break;
    case Stage::Auth:
        s.x.auth = std::move(r);
        break;
    case Stage::Mail:
        s.x.mail = std::move(r);
        break;
    case Stage::Rcpt:
        if (!s.x.rcpt.empty())
            s.x.rcpt.back() = std::move(r);
        break;
    case Stage::Data:
        if (s.x.data.code == 0)
            s.x.data = std::move(r);
        else
            s.x.final = std::move(r);
        break;
    default:
        break;
    }
    return true;
}

// libcurl hands every server reply line to the header callback
// (pingpong.c), which is the only place per-recipient replies show up.
size_t header_cb(char* buf, size_t size, size_t n, void* ud) noexcept
{
    State& s = *static_cast<State*>(ud);
    size_t len = size * n;
    std::string_view line = chomp(std::string_view(buf, len));
    s.last_event_ms = now_ms();
    if (line.size() < 3)
        return len;
    int code = 0;
    for (int i = 0; i < 3; ++i) {
        char c = line[static_cast<size_t>(i)];
        if (c < '0' || c > '9')
            return len; // not a reply line; libcurl rejects it itself
        code = code * 10 + (c - '0');
    }
    std::string_view rest = line.size() > 4 ? line.substr(4) : std::string_view();
    if (s.stage == Stage::Ehlo) {
        if (starts_with(rest, "AUTH ") || starts_with(rest, "AUTH=")) {
            s.ehlo_auth = true;
            if (s.mechanisms.empty())
                s.mechanisms = std::string(rest.substr(5, 200));
        }
        if (starts_with(rest, "STARTTLS"))
            s.ehlo_starttls = true;
    }
    try {
        if (s.cur.code == 0) {
            s.cur.code = code;
            s.cur.text = std::string(line.substr(0, 3));
        }
        if (!rest.empty() && s.cur.text.size() < max_reply_text &&
            !(s.stage == Stage::Ehlo && s.cur.text.size() > 3)) {
            s.cur.text += ' ';
            s.cur.text.append(rest.substr(0, max_reply_text - s.cur.text.size()));
        }
        bool last = line.size() == 3 || line[3] == ' ';
        if (!last)
            return len;
        Reply r = std::move(s.cur);
        s.cur = Reply();
        return on_reply(s, std::move(r)) ? len : 0;
    } catch (...) {
        return 0;
    }
}

size_t read_cb(char* buf, size_t size, size_t n, void* ud) noexcept
{
    State& s = *static_cast<State*>(ud);
    // Honour size * n and keep our own offset: libcurl may ask for any
    // amount, many times (the SMTP example's single-read assumption is
    // curl issue #7330).
    long long left = s.src.size - s.pos;
    if (left <= 0) {
        s.x.data_all_read = true;
        return 0;
    }
    size_t want = std::min(size * n, static_cast<size_t>(left));
    ssize_t r;
    do
        r = ::pread(s.src.fd, buf, want, static_cast<off_t>(s.src.offset + s.pos));
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        s.read_error = r < 0 ? std::string("read queued message: ") + std::strerror(errno)
                             : "queued message is shorter than its recorded size";
        return CURL_READFUNC_ABORT;
    }
    s.pos += r;
    if (s.pos >= s.src.size)
        s.x.data_all_read = true;
    s.last_event_ms = now_ms();
    return static_cast<size_t>(r);
}

int debug_cb(CURL*, curl_infotype type, char* data, size_t size, void* ud) noexcept
{
    State& s = *static_cast<State*>(ud);
    std::string_view text(data, size);
    try {
        switch (type) {
        case CURLINFO_HEADER_OUT:
            // One command per call (Curl_pp_vsendf): the step tracker.
            on_command(s, text);
            if (s.verbose)
                std::fprintf(stderr, "> %s\n", s.redactor.client(text).c_str());
            break;
        case CURLINFO_HEADER_IN:
            if (s.verbose)
                std::fprintf(stderr, "< %s\n", s.redactor.server(text).c_str());
            break;
        case CURLINFO_TEXT:
            if (s.verbose)
                std::fprintf(stderr, "* %s\n", std::string(chomp(text)).c_str());
            break;
        case CURLINFO_DATA_OUT:
            s.last_event_ms = now_ms();
            break;
        default:
            break;
        }
    } catch (...) {
    }
    return 0;
}

// Our own sockets, so that a stalled relay can be cut off with shutdown()
// (see relay.h) and a closed descriptor is never touched again.
curl_socket_t open_cb(void* ud, curlsocktype, struct curl_sockaddr* a) noexcept
{
    State& s = *static_cast<State*>(ud);
    int fd = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0)
        return CURL_SOCKET_BAD;
    try {
        s.sockets.insert(fd);
    } catch (...) {
        ::close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

int close_cb(void* ud, curl_socket_t fd) noexcept
{
    State& s = *static_cast<State*>(ud);
    s.sockets.erase(fd);
    return ::close(fd);
}

// The address this machine would use to reach host:port, as an SMTP
// address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"), or "" when the
// host does not resolve. A connected UDP socket sends nothing: the kernel
// only picks the route and the source address.
std::string local_address_literal(std::string host, long port)
{
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    struct addrinfo hints = {};
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    struct addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0)
        return {};
    std::string out;
    for (struct addrinfo* a = res; a && out.empty(); a = a->ai_next) {
        int fd = ::socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        struct sockaddr_storage me = {};
        socklen_t len = sizeof me;
        char buf[INET6_ADDRSTRLEN] = {};
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
            ::getsockname(fd, reinterpret_cast<struct sockaddr*>(&me), &len) == 0) {
            if (me.ss_family == AF_INET &&
                ::inet_ntop(AF_INET, &reinterpret_cast<struct sockaddr_in*>(&me)->sin_addr, buf,
                            sizeof buf))
                out = std::string("[") + buf + "]";
            else if (me.ss_family == AF_INET6 &&
                     ::inet_ntop(AF_INET6, &reinterpret_cast<struct sockaddr_in6*>(&me)->sin6_addr,
                                 buf, sizeof buf))
                out = std::string("[IPv6:") + buf + "]";
        }
        ::close(fd);
    }
    ::freeaddrinfo(res);
    return out;
}

// The EHLO name (reliability.md 5.15): relays increasingly refuse a
// non-qualified one (Postfix reject_non_fqdn_helo_hostname: "504 5.5.2
// <pi>: Helo command rejected: need fully-qualified hostname", for every
// recipient). A machine that knows no FQDN (a Raspberry Pi called "pi")
// says its address instead, as RFC 5321 4.1.4 asks, which such
// restrictions accept. Found once per host and session.
std::string ehlo_name(State& s, size_t host)
{
    auto it = s.ehlo_names.find(host);
    if (it != s.ehlo_names.end())
        return it->second;
    std::string name = local_fqdn();
    if (name.find('.') == std::string::npos) {
        std::string lit =
            local_address_literal(s.cfg.relay.hosts[host], s.cfg.relay.effective_port());
        if (!lit.empty())
            name = lit;
    }
    s.ehlo_names[host] = name;
    return name;
}

std::string url_for(State& s, size_t host)
{
    const RelayConfig& r = s.cfg.relay;
    std::string h = r.hosts[host];
    if (h.find(':') != std::string::npos && h.front() != '[')
        h = "[" + h + "]";
    std::string scheme = r.tls == TlsMode::Implicit ? "smtps://" : "smtp://";
    // The path is the EHLO name; libcurl URL-decodes it, and an address
    // literal's brackets are no path characters.
    std::string path;
    for (char c : ehlo_name(s, host)) {
        if (c == '[')
            path += "%5B";
        else if (c == ']')
            path += "%5D";
        else
            path += c;
    }
    return scheme + h + ":" + std::to_string(r.effective_port()) + "/" + path;
}

// True when libcurl's default CA directory holds OpenSSL's hash links
// (<8 hex digits>.0: update-ca-certificates and c_rehash make them), so
// that it alone can stand for the system store. Looked at once.
bool hashed_ca_dir(State& s)
{
    if (s.ca_dir >= 0)
        return s.ca_dir == 1;
    s.ca_dir = 0;
    char* dir = nullptr;
    if (curl_easy_getinfo(s.easy.get(), CURLINFO_CAPATH, &dir) != CURLE_OK || !dir || !*dir)
        return false;
    DIR* d = ::opendir(dir);
    if (!d)
        return false;
    while (struct dirent* ent = ::readdir(d)) {
        std::string_view n = ent->d_name;
        if (n.size() == 10 && n.substr(8) == ".0" &&
            n.substr(0, 8).find_first_not_of("0123456789abcdef") == std::string_view::npos) {
            s.ca_dir = 1;
            break;
        }
    }
    ::closedir(d);
    return s.ca_dir == 1;
}

void set_common(State& s, bool inspect_only)
{
    CURL* e = s.easy.get();
    const RelayConfig& r = s.cfg.relay;
    long timeout = r.timeout > 0 ? r.timeout : 60;
    curl_easy_setopt(e, CURLOPT_URL, url_for(s, s.host).c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    // Never a proxy, whatever the environment said (it is cleared anyway).
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s.errbuf);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, std::max(timeout, r.data_timeout));
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &s);
    // VERBOSE is what makes libcurl call the debug callback, which is how
    // we learn which command each reply answers; printing is up to -v.
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, &s);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &s);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, &s);

    // STARTTLS is required, never tried (no fall back to clear text);
    // with implicit TLS (smtps://) it states the same.
    if (r.tls != TlsMode::None)
        curl_easy_setopt(e, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    curl_easy_setopt(e, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    bool verify = r.tls_verify && !inspect_only;
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (!r.ca_file.empty()) {
        // That file alone: not the system directory as well.
        curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
        curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
    } else if (hashed_ca_dir(s)) {
        // The system store through its hashed directory: OpenSSL reads the
        // one CA the relay's chain needs, where the bundle would put every
        // CA of the bundle (about 900 KiB) on the heap.
        curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);
    }
    if (!r.tls_pin.empty() && !inspect_only)
        curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, r.tls_pin.c_str());
    if (!r.client_cert.empty())
        curl_easy_setopt(e, CURLOPT_SSLCERT, r.client_cert.c_str());
    if (!r.client_key.empty())
        curl_easy_setopt(e, CURLOPT_SSLKEY, r.client_key.c_str());

    if (s.credentials && !inspect_only) {
        curl_easy_setopt(e, CURLOPT_USERNAME, r.user.c_str());
        // Some servers answer 535 to AUTH PLAIN without an initial response
        // (curl KNOWN_BUGS 3.4).
        curl_easy_setopt(e, CURLOPT_SASL_IR, 1L);
        const char* mech = nullptr;
        switch (r.auth) {
        case AuthMode::Plain:
            mech = "AUTH=PLAIN";
            break;
        case AuthMode::Login:
            mech = "AUTH=LOGIN";
            break;
        case AuthMode::CramMd5:
            mech = "AUTH=CRAM-MD5";
            break;
        case AuthMode::XOAuth2:
            mech = "AUTH=XOAUTH2";
            break;
        default:
            break;
        }
        if (r.auth == AuthMode::XOAuth2)
            curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, s.secret.c_str());
        else
            curl_easy_setopt(e, CURLOPT_PASSWORD, s.secret.c_str());
        curl_easy_setopt(e, CURLOPT_LOGIN_OPTIONS, mech);
    } else {
        curl_easy_setopt(e, CURLOPT_USERNAME, nullptr);
        curl_easy_setopt(e, CURLOPT_PASSWORD, nullptr);
        curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, nullptr);
        curl_easy_setopt(e, CURLOPT_LOGIN_OPTIONS, nullptr);
    }
}

void reset_transfer(State& s)
{
    s.x = Exchange();
    s.stage = Stage::Greeting;
    s.cur = Reply();
    s.starttls_sent = false;
    s.ehlo_auth = false;
    s.ehlo_starttls = false;
    s.pos = 0;
    s.read_error.clear();
    s.errbuf[0] = '\0';
    s.tls_version.clear();
    s.cert_subject.clear();
    s.cert_issuer.clear();
}

// Runs the prepared transfer through the multi handle, enforcing the
// per-step timeout (relay.h). Fills s.x.curl_code / curl_error.
void run_transfer(State& s)
{
    CURLM* m = s.multi.get();
    long timeout_ms = (s.cfg.relay.timeout > 0 ? s.cfg.relay.timeout : 60) * 1000L;
    s.last_event_ms = now_ms();
    curl_multi_add_handle(m, s.easy.get());
    CURLcode result = CURLE_OK;
    for (;;) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK) {
            result = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (!running) {
            int left = 0;
            while (CURLMsg* msg = curl_multi_info_read(m, &left))
                if (msg->msg == CURLMSG_DONE)
                    result = msg->data.result;
            break;
        }
        if (!s.x.timed_out && now_ms() - s.last_event_ms > timeout_ms) {
            s.x.timed_out = true;
            for (curl_socket_t fd : s.sockets)
                ::shutdown(fd, SHUT_RDWR);
        }
        curl_multi_poll(m, nullptr, 0, 200, nullptr);
    }
    curl_multi_remove_handle(m, s.easy.get());
    s.x.curl_code = static_cast<int>(result);
    if (!s.read_error.empty())
        s.x.curl_error = s.read_error;
    else if (s.x.no_auth)
        s.x.curl_error = "relay did not offer AUTH";
    else if (result != CURLE_OK)
        s.x.curl_error = s.errbuf[0] ? s.errbuf : curl_easy_strerror(result);
}

std::string relay_name(State& s)
{
    char* ip = nullptr;
    long port = 0;
    curl_easy_getinfo(s.easy.get(), CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(s.easy.get(), CURLINFO_PRIMARY_PORT, &port);
    std::string out = s.cfg.relay.hosts[s.host];
    if (ip && *ip)
        out += "[" + std::string(ip) + "]";
    out += ":";
    out += std::to_string(port ? port : s.cfg.relay.effective_port());
    return out;
}

// A failure that another host in the list might not have.
bool connect_failure(const Exchange& x)
{
    return !x.mail_sent && x.greeting.code == 0 &&
           (x.curl_code == CURLE_COULDNT_CONNECT || x.curl_code == CURLE_COULDNT_RESOLVE_HOST ||
            x.curl_code == CURLE_OPERATION_TIMEDOUT || x.timed_out);
}

} // namespace

Result<std::unique_ptr<RelaySession>> RelaySession::open(const Config& cfg, std::string secret,
                                                         bool verbose)
{
    if (cfg.relay.hosts.empty())
        return fail(EX_CONFIG, cfg.path + ": no relay configured ([relay] host)");
    std::unique_ptr<RelaySession> r(new RelaySession());
    r->s_ = std::make_unique<State>();
    State& s = *r->s_;
    if (!s.multi.get() || !s.easy.get())
        return fail(EX_OSERR, "libcurl: cannot allocate a handle");
    s.cfg = cfg;
    s.secret = std::move(secret);
    s.verbose = verbose;
    s.credentials = configured_credentials(s);
    return r;
}

RelaySession::~RelaySession()
{
    if (s_ && !s_->secret.empty())
        ::explicit_bzero(s_->secret.data(), s_->secret.size());
}

TransactionResult RelaySession::send(const Transaction& t)
{
    State& s = *s_;
    CURL* e = s.easy.get();
    TransactionResult out;
    CurlList rcpts;
    for (const auto& r : t.rcpts)
        if (!rcpts.append(r)) {
            out.outcome = decide(Exchange(), t.rcpts.size());
            return out;
        }
    for (size_t tries = 0; tries < s.cfg.relay.hosts.size(); ++tries) {
        reset_transfer(s);
        set_common(s, false);
        curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 0L);
        // "" makes libcurl 7.88 send MAIL FROM:<> (smtp_perform_mail).
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, t.from.c_str());
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpts.get());
        // Three Ls in 7.88: without it one refused RCPT aborts the others.
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, &s);
        // The spool is already CRLF: CURLOPT_CRLF stays off (it would make
        // CR CR LF). The size lets libcurl send SIZE= when offered.
        curl_easy_setopt(e, CURLOPT_CRLF, 0L);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.msg.size));
        s.src = t.msg;
        run_transfer(s);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, nullptr);
        if (connect_failure(s.x) && tries + 1 < s.cfg.relay.hosts.size()) {
            s.host = (s.host + 1) % s.cfg.relay.hosts.size();
            continue;
        }
        break;
    }
    out.relay = relay_name(s);
    out.outcome = decide(s.x, t.rcpts.size());
    out.host = s.host;
    out.mail_accepted = s.x.mail.code >= 200 && s.x.mail.code < 300;
    // Also true for a failure before MAIL FROM on a reused connection, or
    // an allocation failure: then the pool closes a good connection for
    // the rest of the run, which costs only concurrency.
    out.turned_away =
        !s.x.mail_sent && !s.x.no_auth && s.read_error.empty() &&
        (s.x.greeting.code == 0 || (s.x.greeting.code >= 400 && s.x.greeting.code < 500));
    return out;
}

void RelaySession::start_at(size_t host) { s_->host = host % s_->cfg.relay.hosts.size(); }

ProbeResult RelaySession::probe(size_t index, bool inspect_only)
{
    State& s = *s_;
    CURL* e = s.easy.get();
    ProbeResult p;
    s.host = index;
    reset_transfer(s);
    set_common(s, inspect_only);
    if (inspect_only)
        s.credentials = false;
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 0L);
    run_transfer(s);
    p.exchange = s.x;
    p.relay = relay_name(s);
    p.mechanisms = s.mechanisms;
    p.starttls_offered = s.ehlo_starttls || s.starttls_sent;
    p.authenticated = s.x.auth.code == 235;
    long vr = -1;
    if (curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &vr) == CURLE_OK) {
        p.verify_result = vr;
        p.verify_text = X509_verify_cert_error_string(vr);
    }
    p.tls_version = s.tls_version;
    p.cert_subject = s.cert_subject;
    p.cert_issuer = s.cert_issuer;
    // Drop the CONNECT_ONLY connection: a later send() opens its own.
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 0L);
    s.credentials = configured_credentials(s);
    return p;
}

} // namespace postern::send
