// SPDX-License-Identifier: ISC
#pragma once
// One SMTP session with the relay over libcurl, reused for every message
// of a queue run: one easy handle in one multi handle, so libcurl keeps the
// connection and the next transaction starts with MAIL FROM.
//
// Timeouts. libcurl 7.88 has a single per-reply timeout
// (CURLOPT_SERVER_RESPONSE_TIMEOUT) for every reply, but RFC 5321 wants 10
// minutes for the reply after the final dot and a short one elsewhere.
// The session sets libcurl's timeout to max(timeout, data_timeout) (7.88
// waits for the final reply inside smtp_done(), blocking, so that wait is
// governed by it alone) and drives the transfer through the multi
// interface, enforcing `timeout` itself: when nothing has moved (no
// command, reply line or data sent) for `timeout` seconds it shuts the
// socket down. libcurl then fails the transfer with an error, never
// appending the end-of-data dot to a cut message (removing the handle
// instead would make 7.88's smtp_done() send it). CURLOPT_LOW_SPEED_* is
// not used: libcurl also applies it while waiting for the final reply.
//
// AUTH. With credentials configured, an EHLO reply (after STARTTLS when
// tls = starttls) without AUTH aborts the transfer from the header
// callback: 7.88 would otherwise skip authentication silently.
//
// Failure policy: send() never fails as a whole; its Outcome says, per
// recipient, sent / deferred / bounced / maybe (classify.h).

#include "common/config.h"
#include "common/result.h"
#include "send/classify.h"

#include <memory>
#include <string>
#include <vector>

namespace postern::send {

// The message as stored: size octets at offset in fd (canonical CRLF).
struct MessageSource {
    int fd = -1;
    long long offset = 0;
    long long size = 0;
};

struct Transaction {
    std::string from;               // "" sends MAIL FROM:<>
    std::vector<std::string> rcpts; // at most max_rcpts
    MessageSource msg;
};

struct TransactionResult {
    Outcome outcome;
    std::string relay;          // "host[ip]:port" for the log
    size_t host = 0;            // the index in [relay] host it went to
    bool mail_accepted = false; // MAIL FROM got a 2xx reply
    // The relay would not take this connection: no connection, no
    // greeting or a 4xx greeting, nothing of the transaction sent.
    bool turned_away = false;
};

// What --check learns from connecting (CONNECT_ONLY: greeting, EHLO,
// STARTTLS, AUTH, no mail).
struct ProbeResult {
    Exchange exchange;
    std::string relay;
    std::string tls_version;  // "TLSv1.3", "" without TLS
    std::string cert_subject; // peer certificate subject, "" when none
    std::string cert_issuer;
    long verify_result = -1; // X509 verify result code, -1 unknown
    std::string verify_text; // "ok" or the X509 error string
    std::string mechanisms;  // AUTH mechanisms offered, "" when none
    bool starttls_offered = false;
    bool authenticated = false;
};

constexpr size_t max_rcpts = 100; // RFC 5321 4.5.3.1.8 minimum

class RelaySession {
  public:
    // Prepares (does not connect). secret: password or xoauth2 token, ""
    // for none. verbose: print the SMTP dialogue, AUTH masked, to stderr.
    // Errors: EX_CONFIG when no relay host is configured, EX_OSERR when
    // libcurl cannot allocate a handle.
    static Result<std::unique_ptr<RelaySession>> open(const Config& cfg, std::string secret,
                                                      bool verbose);
    ~RelaySession();
    RelaySession(const RelaySession&) = delete;
    RelaySession& operator=(const RelaySession&) = delete;

    // Runs one transaction; tries the next host on connection failure.
    TransactionResult send(const Transaction& t);
    // The host a new connection tries first (an index into [relay] host).
    void start_at(size_t host);

    // Connects to hosts[index] and stops after authentication. inspect_only:
    // no credentials and no verification, only to show a certificate that
    // failed verification (nothing secret is sent).
    ProbeResult probe(size_t index, bool inspect_only);

    struct State;

  private:
    RelaySession() = default;
    std::unique_ptr<State> s_;
};

} // namespace postern::send
