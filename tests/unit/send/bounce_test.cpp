// SPDX-License-Identifier: ISC
#include "send/bounce.h"
#include "send/local_agent.h"

#include <doctest/doctest.h>

using namespace postern;
using namespace postern::send;

namespace {

Envelope sample()
{
    Envelope e;
    e.id = "6B023C0038F1D60C42869DBC";
    e.sender = "alice@example.org";
    e.time = 1700000000;
    Recipient ok, bad, local;
    ok.state = RcptState::Sent;
    ok.address = "good@example.com";
    bad.state = RcptState::Bounced;
    bad.address = "bad@example.com";
    bad.reply = "550 5.1.1 <bad@example.com>: no such user";
    local.state = RcptState::Bounced;
    local.kind = RcptKind::Local;
    local.address = "nobody2";
    local.orig = "ops";
    local.reply = "5.1.1 no such user";
    e.rcpts = {ok, bad, local};
    return e;
}

BounceInfo info()
{
    BounceInfo b;
    b.id = "6B023C0038F1D60C42869DBC";
    b.mta = "box.example.org";
    b.domain = "example.org";
    b.to = "alice@example.org";
    b.now = 1700000100;
    b.boundary = "B0UND";
    return b;
}

} // namespace

TEST_CASE("bounce: RFC 3464 report")
{
    std::string msg = "Subject: hi\r\nFrom: alice@example.org\r\n\r\nbody\r\n";
    std::string r = format_bounce(info(), sample(), msg, true);
    CHECK(r.find("From: Mail Delivery System <MAILER-DAEMON@example.org>\r\n") == 0);
    CHECK(r.find("Content-Type: multipart/report; report-type=delivery-status;") !=
          std::string::npos);
    CHECK(r.find("\r\n--B0UND\r\nContent-Description: Delivery report\r\nContent-Type: "
                 "message/delivery-status\r\n\r\nReporting-MTA: dns; box.example.org\r\n") !=
          std::string::npos);
    CHECK(r.find("Arrival-Date: ") != std::string::npos);
    CHECK(r.find("Final-Recipient: rfc822; bad@example.com\r\nAction: failed\r\nStatus: "
                 "5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <bad@example.com>: no such user\r\n") !=
          std::string::npos);
    CHECK(r.find("Final-Recipient: rfc822; nobody2@example.org\r\nOriginal-Recipient: rfc822; "
                 "ops\r\n") != std::string::npos);
    CHECK(r.find("good@example.com") == std::string::npos); // only the failed ones
    SUBCASE("a small message is returned whole")
    {
        CHECK(r.find("Content-Type: message/rfc822\r\n\r\n" + msg) != std::string::npos);
    }
    SUBCASE("ret=hdrs or a large message: headers only")
    {
        Envelope e = sample();
        e.ret = "hdrs";
        std::string h = format_bounce(info(), e, msg, true);
        CHECK(h.find("Content-Type: text/rfc822-headers\r\n\r\nSubject: hi\r\nFrom: "
                     "alice@example.org\r\n\r\n--B0UND--\r\n") != std::string::npos);
        CHECK(h.find("body\r\n") == std::string::npos);
    }
    CHECK(r.size() > 10);
    CHECK(r.substr(r.size() - 11) == "--B0UND--\r\n");
    // Only CRLF line ends: the report goes to the relay as it is.
    for (size_t i = 0; i < r.size(); ++i)
        if (r[i] == '\n')
            REQUIRE(i > 0);
    for (size_t i = 1; i < r.size(); ++i)
        if (r[i] == '\n')
            CHECK(r[i - 1] == '\r');
}

TEST_CASE("local agent: postern-deliver exit status mapping")
{
    CHECK(map_deliver_status(0, "").verdict == Verdict::Sent);
    CHECK(map_deliver_status(75, "mailbox locked").verdict == Verdict::Deferred);
    CHECK(map_deliver_status(71, "").verdict == Verdict::Deferred);
    CHECK(map_deliver_status(128 + 9, "").verdict == Verdict::Deferred);
    auto nouser = map_deliver_status(67, "");
    CHECK(nouser.verdict == Verdict::Bounced);
    CHECK(nouser.reply.find("no such user") != std::string::npos);
    // Our side's trouble is retried (review: a broken config bounced mail).
    for (int code : {72, 73, 74, 77, 78})
        CHECK(map_deliver_status(code, "x").verdict == Verdict::Deferred);
    auto other = map_deliver_status(69, "command failed: no such file");
    CHECK(other.verdict == Verdict::Bounced);
    CHECK(other.reply == "command failed: no such file");
}
