// SPDX-License-Identifier: ISC
#pragma once
// What a relay's answers mean for each recipient: the classification
// table of SPEC "On the wire" and notes/reliability.md 5.4/5.5, kept free
// of libcurl so it can be tested with plain data.
//
//   reply                                     verdict
//   2xx at RCPT, then 2xx after DATA          sent
//   4xx anywhere, no reply, timeout           deferred
//   5xx at RCPT                               that recipient bounces
//   5xx at MAIL / DATA / after the final dot  every recipient bounces, except
//     530, 535, 538, 5.7.x (auth, relay       deferred, "configuration problem"
//     denied, policy), any failure before     (relay_problem: the run stops
//     MAIL (connect, TLS, EHLO, AUTH)          using the relay)
//   354 then silence or disconnect after      maybe ("possible duplicate" on
//     the whole message went out                the retry)
// Failure policy: pure functions, no errors.

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace postern::send {

// The SMTP step a reply answers.
enum class Stage { Greeting, Ehlo, StartTls, Auth, Mail, Rcpt, Data, Final, Quit };

struct Reply {
    int code = 0;     // 0: no complete reply
    std::string text; // "550 5.1.1 <x>: unknown", continuation lines joined by a space
};

enum class Verdict { Sent, Deferred, Bounced, Maybe };

// Everything recorded about one SMTP transaction (relay.cpp fills it from
// libcurl's header and debug callbacks).
struct Exchange {
    Reply greeting, ehlo, starttls, auth, mail, data, final;
    std::vector<Reply> rcpt; // one per RCPT command sent, in order
    bool mail_sent = false;
    bool data_all_read = false; // the whole message was handed to libcurl
    bool no_auth = false;       // credentials set but EHLO offered no AUTH
    bool timed_out = false;     // our own per-reply deadline fired
    int curl_code = 0;          // CURLcode of the transfer
    std::string curl_error;     // libcurl's error buffer
};

struct Outcome {
    std::vector<Verdict> rcpts;       // one per recipient of the transaction
    std::vector<std::string> replies; // the text to keep for each
    bool relay_problem = false;       // connect/TLS/AUTH/policy: stop using the relay this run
    std::string error;                // message-level text ("" when every rcpt got its own)
};

// True for reply texts that say the relay will not relay for us
// ("Relay access denied", "Unable to relay", "relaying not permitted").
bool is_relay_denied(std::string_view text);

// Verdict for one reply at a stage (code 0 = no reply: deferred).
Verdict classify_reply(Stage stage, int code, std::string_view text);
// True for the auth/policy replies that mean "our configuration", never the
// message: 530, 535, 538 and enhanced status 5.7.x.
bool is_policy_reply(int code, std::string_view text);
// The enhanced status code ("5.1.1") of a reply text, or "".
std::string enhanced_status(std::string_view text);

// Decides every recipient of a transaction of n recipients.
Outcome decide(const Exchange& x, size_t n);

// Next attempt after a failed one: now + min(max_backoff,
// min_backoff * 2^(attempts-1)); attempts counts the one just made (>= 1).
time_t next_attempt(time_t now, int attempts, long min_backoff, long max_backoff);

} // namespace postern::send
