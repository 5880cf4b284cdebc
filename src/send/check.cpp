// SPDX-License-Identifier: ISC
#include "send/check.h"

#include "send/bounce.h"
#include "send/relay.h"
#include "send/secret.h"

#include "common/address.h"
#include "common/io.h"
#include "common/spool.h"
#include "common/unique_fd.h"

#include <curl/curl.h>

#include <cstdio>
#include <sys/mman.h>
#include <unistd.h>

namespace postern::send {
namespace {

const char* tls_name(TlsMode m)
{
    switch (m) {
    case TlsMode::StartTls:
        return "starttls";
    case TlsMode::Implicit:
        return "implicit TLS";
    case TlsMode::None:
        return "no TLS";
    }
    return "?";
}

void say(const std::string& s) { std::printf("%s\n", s.c_str()); }

// The exit status for a failed probe, and a line saying what to fix.
int judge(const ProbeResult& p, const Config& cfg)
{
    const Exchange& x = p.exchange;
    if (x.curl_code == CURLE_OK && !x.no_auth) {
        return 0;
    }
    Outcome o = decide(x, 0);
    say("  FAILED: " + o.error);
    if (x.no_auth || x.auth.code >= 500 || x.curl_code == CURLE_LOGIN_DENIED) {
        say("  fix: check [relay] user and the password (" + cfg.where("relay.user") +
            "), auth, and that this port offers AUTH after TLS");
        return EX_NOPERM;
    }
    switch (x.curl_code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
        say("  fix: check [relay] host and port (" + cfg.where("relay.host") +
            "), and that the network allows outgoing connections to it");
        return EX_TEMPFAIL;
    case CURLE_USE_SSL_FAILED:
        say("  fix: the relay offers no STARTTLS on this port: use tls = implicit with port 465, "
            "or the provider's submission port");
        return EX_UNAVAILABLE;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        say("  fix: the certificate was not accepted: check that host is the name in the "
            "certificate, set ca_file for a private CA, or tls_pin");
        return EX_UNAVAILABLE;
    default:
        return x.timed_out ? EX_TEMPFAIL : EX_UNAVAILABLE;
    }
}

void show_tls(const ProbeResult& p)
{
    if (!p.tls_version.empty())
        say("  TLS: " + p.tls_version);
    if (!p.cert_subject.empty()) {
        say("  certificate subject: " + p.cert_subject);
        say("  certificate issuer: " + p.cert_issuer);
    }
    if (p.verify_result >= 0 && !p.cert_subject.empty())
        say("  certificate verification: " + p.verify_text);
}

int send_test(const Config& cfg, const std::string& secret, const Options& opt)
{
    std::string domain = mail_domain(cfg);
    std::string from = !cfg.sender.from.empty()                        ? cfg.sender.from
                       : cfg.relay.user.find('@') != std::string::npos ? cfg.relay.user
                                                                       : "postmaster@" + domain;
    Status ok = check_address(opt.send_to, "--send");
    if (!ok) {
        say("test message: " + ok.error().text);
        return EX_USAGE;
    }
    time_t now = ::time(nullptr);
    std::string msg = "From: postern <" + from + ">\r\nTo: <" + opt.send_to +
                      ">\r\nSubject: postern test message from " + local_fqdn() +
                      "\r\nDate: " + rfc5322_date(now) + "\r\nMessage-ID: <" + new_queue_id() +
                      ".check@" + local_fqdn() +
                      ">\r\n\r\nThis is a test message sent by postern-send --check.\r\n";
    UniqueFd fd(::memfd_create("postern-check", MFD_CLOEXEC));
    if (!fd.valid() || !write_all(fd.get(), msg, "test message")) {
        say("test message: cannot prepare it");
        return EX_OSERR;
    }
    auto session = RelaySession::open(cfg, secret, opt.verbose);
    if (!session) {
        say("test message: " + session.error().text);
        return session.error().code;
    }
    Transaction t;
    t.from = from;
    t.rcpts = {opt.send_to};
    t.msg = {fd.get(), 0, static_cast<long long>(msg.size())};
    TransactionResult r = (*session)->send(t);
    Verdict v = r.outcome.rcpts.empty() ? Verdict::Deferred : r.outcome.rcpts[0];
    std::string reply = r.outcome.replies.empty() ? "" : r.outcome.replies[0];
    if (v == Verdict::Sent) {
        say("test message from <" + from + "> to <" + opt.send_to + ">: sent via " + r.relay +
            " (" + reply + ")");
        return 0;
    }
    say("test message from <" + from + "> to <" + opt.send_to + ">: FAILED (" + reply + ")");
    if (v == Verdict::Bounced)
        say("  fix: the relay refused it permanently; a relay usually accepts only its "
            "account's address as sender: set [sender] from");
    return v == Verdict::Bounced ? EX_UNAVAILABLE : EX_TEMPFAIL;
}

} // namespace

Result<int> run_check(const Config& cfg, const Options& opt)
{
    say("config: " + cfg.path + (cfg.file_found ? ": ok" : ": not found, using defaults"));
    if (cfg.relay.hosts.empty()) {
        say("relay: none configured: relay mail stays queued (set [relay] host in " + cfg.path +
            ")");
        return EX_CONFIG;
    }
    auto secret = resolve_secret(cfg);
    if (!secret) {
        say("secret: " + secret.error().text);
        return secret.error().code;
    }
    if (secret->empty())
        say("secret: none configured (no AUTH)");
    else
        say(std::string("secret: ") +
            (!cfg.relay.password_file.empty()      ? "password_file " + cfg.relay.password_file
             : !cfg.relay.password_command.empty() ? "password_command"
                                                   : "password") +
            ": read (not shown)");

    int status = 0;
    for (size_t i = 0; i < cfg.relay.hosts.size(); ++i) {
        auto session = RelaySession::open(cfg, *secret, opt.verbose);
        if (!session)
            return session.error();
        say("relay " + cfg.relay.hosts[i] + " port " + std::to_string(cfg.relay.effective_port()) +
            " (" + tls_name(cfg.relay.tls) + "):");
        ProbeResult p = (*session)->probe(i, false);
        say("  connected: " + p.relay);
        show_tls(p);
        if (p.tls_version.empty() && p.exchange.curl_code != CURLE_OK &&
            cfg.relay.tls != TlsMode::None) {
            // Show what the relay presents, from a second connection that
            // verifies nothing and sends no credentials.
            auto look = RelaySession::open(cfg, "", false);
            if (look) {
                ProbeResult q = (*look)->probe(i, true);
                if (!q.cert_subject.empty()) {
                    say("  (unverified look) TLS: " + q.tls_version);
                    say("  (unverified look) certificate subject: " + q.cert_subject);
                    say("  (unverified look) certificate issuer: " + q.cert_issuer);
                }
            }
        }
        if (!p.mechanisms.empty())
            say("  AUTH offered: " + p.mechanisms);
        else if (p.exchange.ehlo.code == 250)
            say("  AUTH offered: none");
        int st = judge(p, cfg);
        if (st == 0) {
            if (!secret->empty() && cfg.relay.auth != AuthMode::None)
                say("  login as " + cfg.relay.user + ": ok");
            else
                say("  login: not configured");
        } else if (status == 0) {
            status = st;
        }
    }
    if (!opt.send_to.empty() && status == 0)
        status = send_test(cfg, *secret, opt);
    say(status == 0 ? "all good" : "problems found (see above)");
    return status;
}

} // namespace postern::send
