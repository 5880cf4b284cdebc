// SPDX-License-Identifier: ISC
#pragma once
// What a relay's answers mean for each recipient: the classification
// table of SPEC "On the wire" and notes/reliability.md 5.4/5.5, kept free
// of libcurl so it can be tested with plain data.
//
//   stage            reply                                   verdict
//   any              2xx (RCPT, then after the data)          sent
//   any              4xx, no reply, timeout                   deferred
//   before MAIL      connect, greeting, EHLO, STARTTLS, TLS,  deferred, configuration problem
//                    AUTH failures                            (relay_problem: the run stops
//                                                              using the relay)
//   MAIL FROM        530/534/535/538, 5.7.x, account texts    deferred, configuration problem
//   MAIL FROM        other 5xx (5.1.8 bad sender, 552 size)   every recipient bounces
//   RCPT             account reply (below)                    deferred, configuration problem
//   RCPT             other 5xx                                that recipient bounces
//   DATA, final dot  account reply (below)                    deferred, configuration problem
//   DATA, final dot  other 5xx (552 size, 554 5.7.1 spam,     every accepted recipient bounces;
//                    5.6.0 content)                            the run goes on
//   after the dot    354 then silence or a disconnect after   maybe ("possible duplicate" on
//                    the whole message went out                the retry)
// An account reply (is_account_reply) is 530/534/535/538, a relay-denied
// text, one of the enhanced codes 5.7.3/8/9/11/57/60/139/708/750, or a
// text saying the account may not use this sender or is not logged in.
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

// True for replies that concern the account or the relay set-up, never
// the message: see the table above.
bool is_account_reply(int code, std::string_view text);

// Verdict for one reply at a stage (code 0 = no reply: deferred).
Verdict classify_reply(Stage stage, int code, std::string_view text);
// True for the replies to MAIL FROM that mean "our configuration", never
// the message: 530, 534, 535, 538 and enhanced status 5.7.x.
bool is_policy_reply(int code, std::string_view text);
// The enhanced status code ("5.1.1") of a reply text, or "".
std::string enhanced_status(std::string_view text);

// Decides every recipient of a transaction of n recipients.
Outcome decide(const Exchange& x, size_t n);

// Next attempt after a failed one: now + min(max_backoff,
// min_backoff * 2^(attempts-1)); attempts counts the one just made (>= 1).
time_t next_attempt(time_t now, int attempts, long min_backoff, long max_backoff);

} // namespace postern::send
