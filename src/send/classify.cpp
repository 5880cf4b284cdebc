// SPDX-License-Identifier: ISC
#include "send/classify.h"

#include <cctype>

#include <curl/curl.h>

namespace postern::send {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A reply's text in lower case, without the <address> and [host] parts a
// relay echoes back, runs of white space made one space.
std::string reply_words(std::string_view text)
{
    std::string l;
    char close = 0;
    for (char ch : text) {
        if (close) {
            close = ch == close ? 0 : close;
            continue;
        }
        if (ch == '<' || ch == '[') {
            close = ch == '<' ? '>' : ']';
            continue;
        }
        if (ch == ' ' || ch == '\t') {
            if (!l.empty() && l.back() != ' ')
                l += ' ';
            continue;
        }
        l += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return l;
}

// What to say about a failure that happened before MAIL FROM: every such
// failure is about the relay or our configuration, never the message.
std::string relay_error(const Exchange& x)
{
    if (x.no_auth)
        return "relay did not offer AUTH although credentials are configured: refusing to send "
               "unauthenticated (configuration problem: check tls and the relay's port)";
    if (x.auth.code >= 400)
        return "authentication failed: " + x.auth.text +
               " (configuration problem: check user and the password)";
    if (x.greeting.code >= 400)
        return "relay refused the connection: " + x.greeting.text;
    if (x.ehlo.code >= 400)
        return "relay refused EHLO: " + x.ehlo.text;
    if (x.starttls.code >= 400)
        return "relay refused STARTTLS: " + x.starttls.text + " (nothing was sent in clear)";
    std::string why = x.curl_error.empty() ? curl_easy_strerror(static_cast<CURLcode>(x.curl_code))
                                           : x.curl_error;
    if (x.timed_out)
        return "timed out waiting for the relay: " + why;
    switch (x.curl_code) {
    case CURLE_USE_SSL_FAILED:
        return "relay does not offer STARTTLS (" + why +
               "); nothing was sent in clear (configuration problem: tls = implicit, or "
               "another port?)";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CONNECT_ERROR:
        return "TLS failure: " + why + " (configuration problem: check host, ca_file, tls_pin)";
    case CURLE_LOGIN_DENIED:
        return "authentication failed: " + why + " (configuration problem: check user, auth)";
    default:
        return "cannot talk to the relay: " + why;
    }
}

} // namespace

std::string enhanced_status(std::string_view text)
{
    // "550 5.1.1 text": the second word, when it looks like d.d{1,3}.d{1,3}.
    if (text.size() < 9 || text[3] != ' ')
        return {};
    std::string_view w = text.substr(4);
    w = w.substr(0, w.find(' '));
    if (w.size() < 5 || !is_digit(w[0]) || w[1] != '.')
        return {};
    for (char c : w)
        if (!is_digit(c) && c != '.')
            return {};
    return std::string(w);
}

bool is_policy_reply(int code, std::string_view text)
{
    if (code == 530 || code == 534 || code == 535 || code == 538)
        return true;
    return code >= 500 && enhanced_status(text).rfind("5.7.", 0) == 0;
}

bool is_relay_denied(std::string_view text)
{
    std::string l = reply_words(text);
    static constexpr std::string_view phrases[] = {
        "relay access denied",    "relaying denied",        "relay not permitted",
        "relaying not permitted", "not permitted to relay", "unable to relay",
        "relay not allowed",      "relaying not allowed",   "allowed rcpthosts"};
    for (auto p : phrases)
        if (l.find(p) != std::string::npos)
            return true;
    return false;
}

bool is_account_reply(int code, std::string_view text)
{
    if (code == 530 || code == 534 || code == 535 || code == 538)
        return true;
    if (code < 500 || code > 599)
        return false;
    if (is_relay_denied(text))
        return true;
    // Enhanced codes that only ever speak of the account or the client:
    // RFC 4954's 5.7.8 (bad credentials) and 5.7.11 (encryption required),
    // and Microsoft 365's 5.7.3 and 5.7.139 (authentication), 5.7.57
    // (client not authenticated), 5.7.60 (not allowed to send as this
    // sender), 5.7.708 and 5.7.750 (this tenant or address may not send
    // through the service). Not 5.7.9: Yahoo refuses content with it.
    static constexpr std::string_view account_codes[] = {"5.7.3",  "5.7.8",   "5.7.11",  "5.7.57",
                                                         "5.7.60", "5.7.139", "5.7.708", "5.7.750"};
    std::string es = enhanced_status(text);
    for (auto c : account_codes)
        if (es == c)
            return true;
    // The texts relays give when the account may not use this envelope
    // sender or is not logged in (Postfix reject_sender_login_mismatch
    // "Sender address rejected: not owned by user", "Client host rejected",
    // Microsoft 365 SendAsDenied, Gmail and exim "authentication required"),
    // or refuse this client itself (its HELO name, a blocklisted address).
    // Matched on the reply without the <address> and [host] it echoes, so
    // that an address cannot make a refusal look like one of these.
    std::string l = reply_words(text);
    static constexpr std::string_view account_texts[] = {"not owned by",
                                                         "not logged in",
                                                         "send as",
                                                         "sendas",
                                                         "authentication requir",
                                                         "client not authenticated",
                                                         "must authenticate",
                                                         "sender not authori",
                                                         "client host rejected",
                                                         "helo command rejected",
                                                         "not authorized to send",
                                                         "not authorised to send",
                                                         "not permitted to send"};
    for (auto t : account_texts)
        if (l.find(t) != std::string::npos)
            return true;
    return l.find("client host") != std::string::npos && l.find("blocked") != std::string::npos;
}

Verdict classify_reply(Stage stage, int code, std::string_view text)
{
    if (code >= 200 && code < 300)
        return Verdict::Sent;
    if (code < 500 || code > 599)
        return Verdict::Deferred;
    switch (stage) {
    case Stage::Mail:
        // MAIL FROM carries [sender] from, the account's address: a 5.7.x
        // refusal there is about the account ("Sender address rejected:
        // not owned by user"), a 5.1.x or 552 (SIZE) one about the message.
        return is_policy_reply(code, text) || is_account_reply(code, text) ? Verdict::Deferred
                                                                           : Verdict::Bounced;
    case Stage::Rcpt:
    case Stage::Data:
    case Stage::Final:
        // After MAIL was accepted, a refusal concerns this recipient or
        // this message (unknown user, size, "rejected as spam", content)
        // and bounces it; only replies that speak of the account or of
        // relaying (530/535, "Relay access denied", "5.7.60 ... send as
        // this sender") are our setup, and keep the mail queued. Other
        // 5.7.x replies ("Recipient address rejected: Access denied",
        // "5.7.1 Message rejected as spam") bounce.
        return is_account_reply(code, text) ? Verdict::Deferred : Verdict::Bounced;
    default:
        return Verdict::Deferred;
    }
}

Outcome decide(const Exchange& x, size_t n)
{
    Outcome o;
    o.rcpts.assign(n, Verdict::Deferred);
    o.replies.assign(n, std::string());

    if (!x.mail_sent) {
        // Nothing about this message reached the relay.
        o.relay_problem = true;
        o.error = relay_error(x);
        for (auto& r : o.replies)
            r = o.error;
        return o;
    }
    if (x.mail.code != 0 && (x.mail.code < 200 || x.mail.code >= 300)) {
        Verdict v = classify_reply(Stage::Mail, x.mail.code, x.mail.text);
        o.relay_problem = v == Verdict::Deferred && x.mail.code >= 500;
        o.error = o.relay_problem ? x.mail.text + " (configuration problem: the relay refuses "
                                                  "this sender or account)"
                                  : x.mail.text;
        o.rcpts.assign(n, v);
        o.replies.assign(n, o.error);
        return o;
    }

    // Recipients the relay accepted share the fate of the data phase.
    Verdict data_verdict = Verdict::Deferred;
    std::string data_text;
    if (x.curl_code == CURLE_OK && x.final.code >= 200 && x.final.code < 300) {
        data_verdict = Verdict::Sent;
        data_text = x.final.text;
    } else if (x.final.code != 0) {
        data_verdict = classify_reply(Stage::Final, x.final.code, x.final.text);
        data_text = x.final.text;
        o.relay_problem = is_account_reply(x.final.code, x.final.text);
        if (o.relay_problem)
            data_text += " (configuration problem: the relay refuses this sender or account)";
    } else if (x.data.code == 354) {
        // The message went out, at least in part, and no final reply came.
        // If libcurl had the whole message the relay may have it too.
        data_verdict = x.data_all_read ? Verdict::Maybe : Verdict::Deferred;
        std::string why = x.timed_out || x.curl_code == CURLE_OPERATION_TIMEDOUT
                              ? "timed out waiting for the reply to the end of data"
                              : "connection lost during the message transfer";
        if (!x.curl_error.empty())
            why += " (" + x.curl_error + ")";
        data_text = why;
    } else if (x.data.code != 0) {
        data_verdict = classify_reply(Stage::Data, x.data.code, x.data.text);
        data_text = x.data.text;
        o.relay_problem = is_account_reply(x.data.code, x.data.text);
        if (o.relay_problem)
            data_text += " (configuration problem: the relay refuses this sender or account)";
    } else {
        data_text = x.curl_error.empty() ? "connection lost before DATA" : x.curl_error;
        if (x.timed_out)
            data_text = "timed out waiting for the relay (" + data_text + ")";
    }

    bool any_rcpt_reply = false, rcpt_policy = false, any_accepted = false;
    for (size_t i = 0; i < n; ++i) {
        const Reply* r = i < x.rcpt.size() ? &x.rcpt[i] : nullptr;
        if (r && r->code != 0 && (r->code < 200 || r->code >= 300)) {
            o.rcpts[i] = classify_reply(Stage::Rcpt, r->code, r->text);
            o.replies[i] = r->text;
            any_rcpt_reply = true;
            if (r->code >= 500 && o.rcpts[i] == Verdict::Deferred) {
                o.relay_problem = rcpt_policy = true;
                o.replies[i] += " (configuration problem: the relay will not relay for this "
                                "account)";
                o.error = o.replies[i];
            }
        } else if (r && r->code != 0) {
            any_accepted = true;
            o.rcpts[i] = data_verdict;
            o.replies[i] = data_text;
            any_rcpt_reply = true;
        } else {
            o.rcpts[i] = Verdict::Deferred;
            o.replies[i] = data_text;
        }
    }
    // The relay took some recipients: it relays for us, so a refusal of
    // the others says nothing about the rest of the queue.
    if (rcpt_policy && any_accepted)
        o.relay_problem = data_verdict != Verdict::Sent && o.relay_problem;
    if ((!any_rcpt_reply || data_verdict != Verdict::Sent) && !rcpt_policy)
        o.error = data_text;
    return o;
}

time_t next_attempt(time_t now, int attempts, long min_backoff, long max_backoff)
{
    long delay = min_backoff > 0 ? min_backoff : 1;
    for (int i = 1; i < attempts && delay < max_backoff; ++i)
        delay *= 2;
    if (delay > max_backoff)
        delay = max_backoff;
    return now + delay;
}

} // namespace postern::send
