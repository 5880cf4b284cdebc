// SPDX-License-Identifier: ISC
#include "send/classify.h"

#include <curl/curl.h>
#include <doctest/doctest.h>

using namespace postern::send;

TEST_CASE("classify: reply codes (SPEC: On the wire)")
{
    struct Row {
        const char* label;
        Stage stage;
        int code;
        const char* text;
        Verdict want;
    };
    const Row rows[] = {
        {"2xx at RCPT is accepted", Stage::Rcpt, 250, "250 2.1.5 Ok", Verdict::Sent},
        {"4xx at RCPT is temporary", Stage::Rcpt, 451, "451 4.7.1 greylisted", Verdict::Deferred},
        {"5xx at RCPT bounces that recipient", Stage::Rcpt, 550, "550 5.1.1 unknown",
         Verdict::Bounced},
        {"530 at RCPT is our setup, not the address", Stage::Rcpt, 530, "530 5.7.0 auth",
         Verdict::Deferred},
        {"relay denied at RCPT is our setup (Postfix)", Stage::Rcpt, 554,
         "554 5.7.1 <a@example.com>: Relay access denied", Verdict::Deferred},
        {"unable to relay at RCPT is our setup (Exchange)", Stage::Rcpt, 550,
         "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain", Verdict::Deferred},
        {"relay denied without enhanced code", Stage::Rcpt, 554, "554 Relay access denied",
         Verdict::Deferred},
        {"other 5.7.x at RCPT is about the address (review)", Stage::Rcpt, 550,
         "550 5.7.1 <x@y>: Recipient address rejected: Access denied", Verdict::Bounced},
        {"5xx at MAIL bounces", Stage::Mail, 550, "550 5.1.8 bad sender", Verdict::Bounced},
        {"530 at MAIL never bounces", Stage::Mail, 530, "530 5.7.0 Authentication required",
         Verdict::Deferred},
        {"535 never bounces", Stage::Mail, 535, "535 5.7.8 bad credentials", Verdict::Deferred},
        {"5.7.x relay denied never bounces", Stage::Mail, 550, "550 5.7.1 Relaying denied",
         Verdict::Deferred},
        {"5.7.1 sender not owned at MAIL is the account (Postfix)", Stage::Mail, 553,
         "553 5.7.1 <a@b>: Sender address rejected: not owned by user u", Verdict::Deferred},
        {"552 at MAIL (SIZE) bounces", Stage::Mail, 552, "552 5.3.4 message size exceeds limit",
         Verdict::Bounced},
        {"spam refusal after DATA bounces (issue 10)", Stage::Final, 554,
         "554 5.7.1 Message rejected as spam by content filter", Verdict::Bounced},
        {"a bare 5.7.1 after DATA is about the message", Stage::Final, 550,
         "550 5.7.1 message refused", Verdict::Bounced},
        {"send-as refusal after DATA is the account (Microsoft 365)", Stage::Final, 550,
         "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
         Verdict::Deferred},
        {"SendAsDenied after DATA is the account (Microsoft 365)", Stage::Final, 554,
         "554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
         Verdict::Deferred},
        {"sender not authorised after DATA is the account", Stage::Final, 554,
         "554 5.7.1 sender not authorised", Verdict::Deferred},
        {"530 after DATA is the account", Stage::Final, 530, "530 5.7.0 Authentication required",
         Verdict::Deferred},
        {"5.7.57 after DATA is the account (Microsoft 365)", Stage::Final, 550,
         "550 5.7.57 Client not authenticated to send mail", Verdict::Deferred},
        {"relay denied after DATA is our setup", Stage::Final, 554, "554 5.7.1 Relaying denied",
         Verdict::Deferred},
        {"sender not logged in at RCPT is the account (Postfix, smtpd_delay_reject)", Stage::Rcpt,
         553, "553 5.7.1 <a@b>: Sender address rejected: not logged in", Verdict::Deferred},
        {"sender not owned at RCPT is the account (Postfix, smtpd_delay_reject)", Stage::Rcpt, 553,
         "553 5.7.1 <a@b>: Sender address rejected: not owned by user u", Verdict::Deferred},
        {"exim: sender not owned at MAIL, no enhanced code", Stage::Mail, 550,
         "550 sender other@example.test not owned by alerts@example.test", Verdict::Deferred},
        {"exim: authentication required at RCPT", Stage::Rcpt, 550, "550 authentication required",
         Verdict::Deferred},
        {"Postfix content refusal after the dot bounces", Stage::Final, 550,
         "550 5.7.1 Message content rejected", Verdict::Bounced},
        {"an echoed address never makes a refusal relay-denied (review)", Stage::Rcpt, 554,
         "554 5.7.1 <ops@relay.example.org>: Recipient address rejected: Access denied",
         Verdict::Bounced},
        {"an echoed address never makes a refusal relay-denied, 'not allowed'", Stage::Rcpt, 550,
         "550 5.7.1 <bob@mailrelay.corp>: not allowed", Verdict::Bounced},
        {"Yahoo 5.7.9 content policy after DATA bounces", Stage::Final, 554,
         "554 5.7.9 Message not accepted for policy reasons", Verdict::Bounced},
        {"Postfix HELO refusal at RCPT is our setup", Stage::Rcpt, 504,
         "504 5.5.2 <pi>: Helo command rejected: need fully-qualified hostname", Verdict::Deferred},
        {"a blocklisted client is our setup", Stage::Rcpt, 554,
         "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
         Verdict::Deferred},
        {"qmail's relay refusal is our setup", Stage::Rcpt, 553,
         "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
         Verdict::Deferred},
        {"5xx to DATA itself bounces", Stage::Data, 554, "554 5.5.1 Error: no valid recipients",
         Verdict::Bounced},
        {"client host rejected at RCPT is our setup (Postfix)", Stage::Rcpt, 554,
         "554 5.7.1 <h[127.0.0.1]>: Client host rejected: Access denied", Verdict::Deferred},
        {"552 after DATA bounces", Stage::Final, 552, "552 5.3.4 too big", Verdict::Bounced},
        {"554 5.6.0 after DATA bounces", Stage::Final, 554, "554 5.6.0 content", Verdict::Bounced},
        {"no reply is temporary", Stage::Final, 0, "", Verdict::Deferred},
        {"5xx greeting is the relay's problem", Stage::Greeting, 554, "554 go away",
         Verdict::Deferred},
    };
    for (const Row& r : rows) {
        SUBCASE(r.label) { CHECK(classify_reply(r.stage, r.code, r.text) == r.want); }
    }
}

TEST_CASE("classify: enhanced status")
{
    CHECK(enhanced_status("550 5.1.1 <x>: unknown") == "5.1.1");
    CHECK(enhanced_status("250 Ok") == "");
    CHECK(enhanced_status("550 5.7.1") == "5.7.1");
    CHECK(enhanced_status("55") == "");
}

TEST_CASE("decide: per-recipient results of one transaction")
{
    Exchange x;
    x.mail_sent = true;
    x.mail = {250, "250 2.1.0 Ok"};
    x.rcpt = {{250, "250 Ok"}, {550, "550 5.1.1 no such user"}, {451, "451 4.3.0 later"}};
    x.data = {354, "354 go"};
    x.final = {250, "250 2.0.0 queued"};
    x.data_all_read = true;

    SUBCASE("one refused recipient does not stop the others")
    {
        Outcome o = decide(x, 3);
        REQUIRE(o.rcpts.size() == 3);
        CHECK(o.rcpts[0] == Verdict::Sent);
        CHECK(o.replies[0] == "250 2.0.0 queued");
        CHECK(o.rcpts[1] == Verdict::Bounced);
        CHECK(o.replies[1] == "550 5.1.1 no such user");
        CHECK(o.rcpts[2] == Verdict::Deferred);
        CHECK_FALSE(o.relay_problem);
    }
    SUBCASE("a drop after the whole message is 'maybe' (possible duplicate)")
    {
        x.final = {};
        x.curl_code = CURLE_RECV_ERROR;
        Outcome o = decide(x, 3);
        CHECK(o.rcpts[0] == Verdict::Maybe);
        CHECK(o.rcpts[1] == Verdict::Bounced);
    }
    SUBCASE("a drop before the whole message went out is deferred")
    {
        x.final = {};
        x.data_all_read = false;
        x.curl_code = CURLE_SEND_ERROR;
        CHECK(decide(x, 3).rcpts[0] == Verdict::Deferred);
    }
    SUBCASE("5xx after DATA bounces the accepted recipients")
    {
        x.final = {554, "554 5.6.0 rejected"};
        x.curl_code = CURLE_WEIRD_SERVER_REPLY;
        Outcome o = decide(x, 3);
        CHECK(o.rcpts[0] == Verdict::Bounced);
        CHECK(o.replies[0] == "554 5.6.0 rejected");
    }
    SUBCASE("a spam refusal after DATA bounces and is no relay problem (issue 10)")
    {
        x.final = {554, "554 5.7.1 Message rejected as spam by content filter"};
        x.curl_code = CURLE_WEIRD_SERVER_REPLY;
        Outcome o = decide(x, 3);
        CHECK(o.rcpts[0] == Verdict::Bounced);
        CHECK_FALSE(o.relay_problem);
    }
    SUBCASE("an account reply after DATA is a relay problem, never a bounce")
    {
        x.final = {550, "550 5.7.60 SMTP; Client does not have permissions to send as this sender"};
        x.curl_code = CURLE_WEIRD_SERVER_REPLY;
        Outcome o = decide(x, 3);
        CHECK(o.rcpts[0] == Verdict::Deferred);
        CHECK(o.relay_problem);
        CHECK(o.error.find("configuration problem") != std::string::npos);
    }
}

TEST_CASE("decide: failures before MAIL defer everything as a relay problem")
{
    Exchange x;
    SUBCASE("authentication failed")
    {
        x.auth = {535, "535 5.7.8 bad credentials"};
        x.curl_code = CURLE_LOGIN_DENIED;
        Outcome o = decide(x, 2);
        CHECK(o.relay_problem);
        CHECK(o.rcpts == std::vector<Verdict>{Verdict::Deferred, Verdict::Deferred});
        CHECK(o.error.find("authentication failed: 535") == 0);
    }
    SUBCASE("no AUTH offered")
    {
        x.no_auth = true;
        x.curl_code = CURLE_WRITE_ERROR;
        CHECK(decide(x, 1).error.find("did not offer AUTH") != std::string::npos);
    }
    SUBCASE("no STARTTLS")
    {
        x.curl_code = CURLE_USE_SSL_FAILED;
        CHECK(decide(x, 1).error.find("STARTTLS") != std::string::npos);
    }
}

TEST_CASE("retry schedule: min_backoff doubling up to max_backoff")
{
    CHECK(next_attempt(1000, 1, 300, 14400) == 1300);
    CHECK(next_attempt(1000, 2, 300, 14400) == 1600);
    CHECK(next_attempt(1000, 3, 300, 14400) == 2200);
    CHECK(next_attempt(1000, 6, 300, 14400) == 1000 + 9600);
    CHECK(next_attempt(1000, 7, 300, 14400) == 1000 + 14400);
    CHECK(next_attempt(1000, 500, 300, 14400) == 1000 + 14400);
}
