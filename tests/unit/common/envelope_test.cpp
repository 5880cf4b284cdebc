// SPDX-License-Identifier: ISC
#include "common/envelope.h"

#include <doctest/doctest.h>

using namespace postern;

namespace {

Envelope sample()
{
    Envelope e;
    e.time = 1732240000;
    e.uid = 1000;
    e.user = "alice";
    e.sender = "alice@example.com";
    e.local_sender = "alice";
    e.notify = "never";
    e.body = "8bitmime";
    Recipient a, b;
    a.address = "root";
    b.address = "bob@example.net";
    e.rcpts = {a, b};
    return e;
}

} // namespace

TEST_CASE("envelope: drop header round trip (DESIGN: drop header format)")
{
    Envelope e = sample();
    e.size = 1234;
    auto text = format_drop_header(e);
    REQUIRE(text);
    CHECK(text->substr(drop_size_offset, drop_size_width) == "000000001234");
    std::string file = *text + "Subject: x\r\n\r\nbody\r\n";
    auto back = parse_drop_header(file, "incoming/X");
    REQUIRE(back);
    CHECK(back->offset == static_cast<long long>(text->size()));
    CHECK(back->size == 1234);
    CHECK(back->uid == 1000);
    CHECK(back->sender == "alice@example.com");
    CHECK(back->local_sender == "alice");
    CHECK(back->notify == "never");
    REQUIRE(back->rcpts.size() == 2);
    CHECK(back->rcpts[1].address == "bob@example.net");
}

TEST_CASE("envelope: the null sender survives")
{
    Envelope e = sample();
    e.sender.clear();
    auto text = format_drop_header(e);
    REQUIRE(text);
    auto back = parse_drop_header(*text, "x");
    REQUIRE(back);
    CHECK(back->sender.empty());
}

TEST_CASE("envelope: values with CR, LF or NUL never reach the spool (SPEC: no injection)")
{
    for (const char* bad : {"a\r\nrcpt: evil@x", "a\nb", "a\0b"}) {
        Envelope e = sample();
        e.sender = std::string(bad, bad[1] == '\0' ? 3 : std::char_traits<char>::length(bad));
        auto text = format_drop_header(e);
        REQUIRE_FALSE(text);
        CHECK(text.error().code == EX_SOFTWARE);
        CHECK_FALSE(format_envelope(e));
    }
}

TEST_CASE("envelope: queue envelope round trip with recipient states")
{
    Envelope e = sample();
    e.offset = 200;
    e.size = 99;
    e.attempts = 3;
    e.next = 1732249999;
    e.error = "451 4.3.0 try later";
    e.rcpts[0].kind = RcptKind::Local;
    e.rcpts[0].state = RcptState::Sent;
    e.rcpts[0].orig = "postmaster";
    e.rcpts[1].state = RcptState::Maybe;
    e.rcpts[1].reply = "connection lost after DATA";
    Recipient cmd;
    cmd.kind = RcptKind::Command;
    cmd.address = "/usr/bin/logger -t mail";
    e.rcpts.push_back(cmd);
    auto text = format_envelope(e);
    REQUIRE(text);
    auto back = parse_envelope(*text, "queue/X.env");
    REQUIRE(back);
    CHECK(back->offset == 200);
    CHECK(back->attempts == 3);
    CHECK(back->next == 1732249999);
    CHECK(back->error == "451 4.3.0 try later");
    REQUIRE(back->rcpts.size() == 3);
    CHECK(back->rcpts[0].state == RcptState::Sent);
    CHECK(back->rcpts[0].kind == RcptKind::Local);
    CHECK(back->rcpts[0].orig == "postmaster");
    CHECK(back->rcpts[1].state == RcptState::Maybe);
    CHECK(back->rcpts[1].reply == "connection lost after DATA");
    CHECK(back->rcpts[2].kind == RcptKind::Command);
    CHECK(back->rcpts[2].address == "/usr/bin/logger -t mail");
}

TEST_CASE("envelope: a truncated or foreign file is refused, never half-read")
{
    Envelope e = sample();
    auto text = format_envelope(e);
    REQUIRE(text);
    std::string cut = text->substr(0, text->size() - 4); // "end\n" missing
    auto r = parse_envelope(cut, "queue/X.env");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EX_DATAERR);
    CHECK(r.error().text.find("truncated") != std::string::npos);
    CHECK_FALSE(parse_envelope("POSTERN-ENV 2\nend\n", "x"));
    CHECK_FALSE(parse_envelope("POSTERN-ENV 1\nrcpt: nonsense\nend\n", "x"));
    CHECK_FALSE(parse_drop_header("POSTERN-DROP 1\nsize: 1\nrcpt: a\n", "x")); // no blank line
    CHECK_FALSE(parse_drop_header("POSTERN-DROP 1\nrcpt: a\n\n", "x"));        // no size
}

TEST_CASE("envelope: a relay reply with control bytes is saved as one line (review: a bare CR "
          "in a 451 once blocked the state update)")
{
    Envelope e = sample();
    e.rcpts[0].reply = std::string("451 4.7.1 grey\rlisted\0x", 23);
    e.error = "lost\r\nconnection";
    auto text = format_envelope(e);
    REQUIRE(text);
    auto back = parse_envelope(*text, "x");
    REQUIRE(back);
    CHECK(back->rcpts[0].reply == std::string("451 4.7.1 grey listed x"));
    CHECK(back->error == "lost  connection");
}

TEST_CASE("envelope: out-of-range numbers are refused (fuzzing: attempts overflowed int)")
{
    CHECK_FALSE(parse_envelope("POSTERN-ENV 1\nattempts: 17017322400\nend\n", "x"));
    CHECK_FALSE(parse_envelope("POSTERN-ENV 1\nuid: 99999999999\nend\n", "x"));
    CHECK_FALSE(parse_envelope("POSTERN-ENV 1\nnext: 9732240901732240900\nend\n", "x"));
    auto ok = parse_envelope("POSTERN-ENV 1\nattempts: 12\nuid: 4294967294\nend\n", "x");
    REQUIRE(ok);
    CHECK(ok->attempts == 12);
}
