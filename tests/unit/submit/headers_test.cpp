// SPDX-License-Identifier: ISC
// Address lists and header fix-ups (SPEC "Submission": header fix-ups).
#include "submit/address_list.h"
#include "submit/headers.h"

#include <doctest/doctest.h>

#include <sysexits.h>

using namespace postern;
using namespace postern::submit;

namespace {

std::vector<std::string> addrs(std::string_view v)
{
    auto r = parse_address_list(v);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().text));
    std::vector<std::string> out;
    for (auto& m : *r)
        out.push_back(m.addr);
    return out;
}

Header hdr(const std::string& raw) { return Header{raw.substr(0, raw.find(':')), raw}; }

const Header* find(const std::vector<Header>& hs, const std::string& name)
{
    for (auto& h : hs)
        if (h.name == name)
            return &h;
    return nullptr;
}

struct Fixture {
    Config cfg;
    FixupContext ctx;
    Fixture()
    {
        cfg.sender.domain = "example.org";
        ctx.cfg = &cfg;
        ctx.domain = "example.org";
        ctx.hostname = "box.example.org";
        ctx.queue_id = "0123456789ABCDEF01234567";
        ctx.now = 1700000000;
        ctx.uid = 1000;
        ctx.user = "alice";
        ctx.from_addr = "alice";
    }
};

} // namespace

TEST_CASE("address lists (-t recipients from To/Cc/Bcc)")
{
    struct Case {
        const char* label;
        const char* value;
        std::vector<std::string> want;
    };
    const Case cases[] = {
        {"bare addr-spec", " a@x.org", {"a@x.org"}},
        {"display names and angle addresses",
         " A <a@x.org>, \"B, Jr\" <b@y.org>",
         {"a@x.org", "b@y.org"}},
        {"comments are not addresses",
         " a@x.org (Alice, A), root (Cron Daemon)",
         {"a@x.org", "root"}},
        {"groups: undisclosed-recipients:;", " undisclosed-recipients:;", {}},
        {"group with members",
         " team: a@x.org, b@y.org;, c@z.org",
         {"a@x.org", "b@y.org", "c@z.org"}},
        {"folded lines", " a@x.org,\r\n\tb@y.org", {"a@x.org", "b@y.org"}},
        {"encoded words left alone", " =?UTF-8?B?w6k=?= <e@x.org>", {"e@x.org"}},
        {"quoted local part", " \"john doe\"@x.org", {"\"john doe\"@x.org"}},
        {"empty members skipped", " a@x.org,, <>", {"a@x.org"}},
        {"hostile groups stay linear", " ;;;;;;;;:::::;;;;", {}},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label) { CHECK(addrs(c.value) == c.want); }
    }
    SUBCASE("unbalanced syntax is an error")
    {
        CHECK(!parse_address_list(" \"a@x.org").has_value());
        CHECK(!parse_address_list(" (a@x.org").has_value());
        CHECK(!parse_address_list(" A <a@x.org").has_value());
    }
}

TEST_CASE("fix-ups")
{
    Fixture f;
    std::vector<std::string> rcpts;

    SUBCASE("add Date, Message-ID, From when missing (cron mail has neither)")
    {
        std::vector<Header> hs = {hdr("Subject: hi")};
        f.ctx.fullname = "Alice Smith";
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        REQUIRE(find(hs, "Date"));
        CHECK(find(hs, "Date")->raw == "Date: " + rfc5322_date(f.ctx.now));
        REQUIRE(find(hs, "Message-ID"));
        CHECK(find(hs, "Message-ID")->raw == "Message-ID: <0123456789ABCDEF01234567@example.org>");
        REQUIRE(find(hs, "From"));
        CHECK(find(hs, "From")->raw == "From: Alice Smith <alice@example.org>");
    }
    SUBCASE("existing Date and Message-ID are kept byte for byte")
    {
        std::vector<Header> hs = {hdr("Date: Mon, 1 Jan 2024 00:00:00 +0000"),
                                  hdr("Message-ID: <x@y>"), hdr("From: a@b.org")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(find(hs, "Date")->raw == "Date: Mon, 1 Jan 2024 00:00:00 +0000");
        CHECK(find(hs, "Message-ID")->raw == "Message-ID: <x@y>");
    }
    SUBCASE("qualify bare local names in From/To/Cc, keep the rest")
    {
        std::vector<Header> hs = {hdr("From: root (Cron Daemon)"), hdr("To: root,\r\n\tBob <bob>"),
                                  hdr("Cc: x@y.org"), hdr("Reply-To: root")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(find(hs, "From")->raw == "From: root@example.org (Cron Daemon)");
        CHECK(find(hs, "To")->raw == "To: root@example.org,\r\n\tBob <bob@example.org>");
        CHECK(find(hs, "Cc")->raw == "Cc: x@y.org");
        CHECK(find(hs, "Reply-To")->raw == "Reply-To: root");
    }
    SUBCASE("rewrite_from = local: a local From gets [sender] from, keeping the display name")
    {
        f.cfg.sender.from = "alerts@example.com";
        std::vector<Header> hs = {hdr("From: root (Cron Daemon)"), hdr("To: root")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(find(hs, "From")->raw == "From: Cron Daemon <alerts@example.com>");
        CHECK(find(hs, "To")->raw == "To: root@example.org");
        std::vector<Header> hs2 = {hdr("From: Someone <someone@elsewhere.org>")};
        REQUIRE(fix_headers(hs2, f.ctx, rcpts));
        CHECK(find(hs2, "From")->raw == "From: Someone <someone@elsewhere.org>");
    }
    SUBCASE("rewrite_from = always / never")
    {
        f.cfg.sender.from = "alerts@example.com";
        f.cfg.sender.rewrite_from = RewriteFrom::Always;
        std::vector<Header> hs = {hdr("From: Someone <someone@elsewhere.org>")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(find(hs, "From")->raw == "From: Someone <alerts@example.com>");
        f.cfg.sender.rewrite_from = RewriteFrom::Never;
        std::vector<Header> hs2 = {hdr("From: root")};
        REQUIRE(fix_headers(hs2, f.ctx, rcpts));
        CHECK(find(hs2, "From")->raw == "From: root@example.org");
    }
    SUBCASE("remove Bcc (always); -t takes To/Cc/Bcc recipients, bare names bare")
    {
        f.ctx.extract = true;
        std::vector<Header> hs = {hdr("To: root, a@x.org"), hdr("Cc: B <b@y.org>"),
                                  hdr("Bcc: hidden@z.org, a@x.org")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(find(hs, "Bcc") == nullptr);
        CHECK(rcpts == std::vector<std::string>{"root", "a@x.org", "b@y.org", "hidden@z.org"});
    }
    SUBCASE("Bcc is removed without -t too")
    {
        std::vector<Header> hs = {hdr("To: a@x.org"), hdr("BCC: hidden@z.org")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(find(hs, "BCC") == nullptr);
        CHECK(rcpts.empty());
    }
    SUBCASE("two From fields are refused (65)")
    {
        std::vector<Header> hs = {hdr("From: a@x.org"), hdr("from: b@x.org")};
        auto st = fix_headers(hs, f.ctx, rcpts);
        REQUIRE_FALSE(st);
        CHECK(st.error().code == EX_DATAERR);
        CHECK(st.error().text.find("2 From:") != std::string::npos);
    }
    SUBCASE("-t with an unparsable To is refused (65)")
    {
        f.ctx.extract = true;
        std::vector<Header> hs = {hdr("To: \"a@x.org")};
        auto st = fix_headers(hs, f.ctx, rcpts);
        REQUIRE_FALSE(st);
        CHECK(st.error().code == EX_DATAERR);
    }
    SUBCASE("a Received line with the real uid is prepended")
    {
        std::vector<Header> hs = {hdr("Subject: x")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(hs.front().name == "Received");
        CHECK(hs.front().raw.find("from uid 1000 (alice)") != std::string::npos);
        CHECK(hs.front().raw.find("id 0123456789ABCDEF01234567;") != std::string::npos);
    }
}

TEST_CASE("header bytes and MIME")
{
    SUBCASE("NUL, control bytes and invalid UTF-8 in headers are refused")
    {
        CHECK(check_header_line("Subject: caf\xc3\xa9"));
        CHECK_FALSE(check_header_line(std::string("Subject: a\0b", 12)));
        CHECK_FALSE(check_header_line("Subject: \x1b[31m"));
        CHECK_FALSE(check_header_line("Subject: caf\xe9"));
        CHECK_FALSE(check_header_line("Subject: \xc3"));
    }
    SUBCASE("a long line without white space is cut into pieces of at most 998 octets, "
            "counting the inserted space (fuzzing)")
    {
        std::string out = format_headers({hdr("X-Long:" + std::string(5000, 'a'))});
        size_t pos = 0, lines = 0;
        while (true) {
            size_t eol = out.find("\r\n", pos);
            if (eol == std::string::npos)
                break;
            CHECK(eol - pos <= 998);
            pos = eol + 2;
            ++lines;
        }
        CHECK(lines >= 6);
    }
    SUBCASE("header lines over 998 octets are folded at white space")
    {
        std::string v;
        for (int i = 0; i < 300; ++i)
            v += " word";
        std::string out = format_headers({hdr("Subject:" + v)});
        size_t pos = 0;
        while (true) {
            size_t eol = out.find("\r\n", pos);
            if (eol == std::string::npos)
                break;
            CHECK(eol - pos <= 998);
            pos = eol + 2;
        }
        CHECK(out.find("\r\n word") != std::string::npos);
        std::string unfolded = out;
        for (size_t p; (p = unfolded.find("\r\n ")) != std::string::npos;)
            unfolded.erase(p, 2);
        CHECK(unfolded == "Subject:" + v + "\r\n\r\n");
    }
    SUBCASE("mime_info: single part may be re-encoded, multipart may not")
    {
        CHECK(mime_info({hdr("Subject: x")}).reencodable);
        CHECK_FALSE(mime_info({hdr("Subject: x")}).declared_8bit);
        auto cron = mime_info({hdr("MIME-Version: 1.0"), hdr("Content-Transfer-Encoding: 8bit")});
        CHECK(cron.reencodable);
        CHECK(cron.declared_8bit);
        CHECK_FALSE(mime_info({hdr("Content-Type: multipart/mixed; boundary=x")}).reencodable);
        CHECK_FALSE(mime_info({hdr("Content-Transfer-Encoding: base64")}).reencodable);
    }
    SUBCASE("set_quoted_printable adds MIME fields and replaces the encoding")
    {
        std::vector<Header> hs = {hdr("Content-Transfer-Encoding: 8bit")};
        set_quoted_printable(hs);
        CHECK(find(hs, "MIME-Version")->raw == "MIME-Version: 1.0");
        CHECK(find(hs, "Content-Type")->raw == "Content-Type: text/plain; charset=utf-8");
        CHECK(find(hs, "Content-Transfer-Encoding")->raw ==
              "Content-Transfer-Encoding: quoted-printable");
        CHECK(hs.size() == 3);
    }
    SUBCASE("display names become phrases")
    {
        CHECK(make_phrase("Cron Daemon") == "Cron Daemon");
        CHECK(make_phrase("Smith, John") == "\"Smith, John\"");
        CHECK(make_phrase("a\"b") == "\"a\\\"b\"");
        CHECK(make_phrase("Jos\xc3\xa9") == "=?UTF-8?B?Sm9zw6k=?=");
    }
}
