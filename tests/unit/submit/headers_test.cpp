// SPDX-License-Identifier: ISC
// Address lists and header fix-ups (SPEC "Submission": header fix-ups).
#include "submit/address_list.h"
#include "submit/encoded_word.h"
#include "submit/header_bytes.h"
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
    SUBCASE("a field name that cannot fit a 998-octet line is no field (the body starts)")
    {
        CHECK(is_header_start("Subject: x"));
        CHECK(is_header_start(std::string(996, 'X') + ": v"));
        CHECK_FALSE(is_header_start(std::string(997, 'X') + ": v"));
        CHECK_FALSE(is_header_start(std::string("X-A\0B: c", 9)));
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
        CHECK(make_phrase("Jos\xe9") == "=?UTF-8?B?Sm9zw6k=?="); // Latin-1 GECOS
    }
}

namespace {

// RFC 2047 decoding as a reader does it, for "=?UTF-8?B?...?=" only:
// unfold, decode each word, drop white space between two words.
std::string decode_rfc2047(std::string_view v)
{
    std::string u;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\r' && i + 1 < v.size() && v[i + 1] == '\n')
            ++i;
        else
            u += v[i];
    }
    static const std::string b64 =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out, pending_space;
    bool after_word = false;
    for (size_t i = 0; i < u.size();) {
        if (u.compare(i, 10, "=?UTF-8?B?") == 0) {
            size_t end = u.find("?=", i + 10);
            REQUIRE(end != std::string::npos);
            CHECK(end + 2 - i <= 75); // RFC 2047 2: at most 75 octets a word
            if (!after_word)
                out += pending_space;
            unsigned acc = 0;
            int bits = 0;
            for (size_t k = i + 10; k < end; ++k) {
                if (u[k] == '=')
                    break;
                acc = (acc << 6) | static_cast<unsigned>(b64.find(u[k]));
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    out += static_cast<char>((acc >> bits) & 0xff);
                }
            }
            pending_space.clear();
            after_word = true;
            i = end + 2;
        } else if (u[i] == ' ' || u[i] == '\t') {
            pending_space += u[i++];
        } else {
            out += pending_space;
            pending_space.clear();
            out += u[i++];
            after_word = false;
        }
    }
    return out + pending_space;
}

// Every byte 7-bit and printable (TAB and CRLF folds aside), every
// physical line at most limit octets.
void check_7bit(const std::string& raw, size_t limit = 76)
{
    size_t col = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c == '\r') {
            REQUIRE(i + 2 < raw.size());
            CHECK(raw[i + 1] == '\n');
            CHECK((raw[i + 2] == ' ' || raw[i + 2] == '\t'));
            ++i;
            col = 0;
            continue;
        }
        CHECK_MESSAGE((c == '\t' || (c >= 0x20 && c < 0x7f)), "byte ", int(c), " at ", i);
        ++col;
        CHECK(col <= limit);
    }
}

} // namespace

TEST_CASE("header bytes never refuse a message: RFC 2047 encoding (SPEC \"Submission\")")
{
    struct Case {
        const char* label;
        std::string in;      // the field as written
        std::string raw;     // the field after encode_header_bytes()
        std::string decoded; // what a reader shows as its value
    };
    const Case cases[] = {
        {"Latin-1 (invalid UTF-8) subject: each byte is its ISO-8859-1 character, as UTF-8",
         "Subject: Cron <root@pi> /usr/bin/caf\xe9.sh",
         "Subject: Cron <root@pi> =?UTF-8?B?L3Vzci9iaW4vY2Fmw6kuc2g=?=",
         " Cron <root@pi> /usr/bin/caf\xc3\xa9.sh"},
        {"valid UTF-8 subject goes 7-bit too (no SMTPUTF8 with libcurl 7.88)",
         "Subject: caf\xc3\xa9 cr\xc3\xa8me ok", "Subject: =?UTF-8?B?Y2Fmw6kgY3LDqG1l?= ok",
         " caf\xc3\xa9 cr\xc3\xa8me ok"},
        {"control byte (ESC) becomes its control picture U+241B", "Subject: a\x1b[31mred",
         "Subject: =?UTF-8?B?YeKQm1szMW1yZWQ=?=", " a\xe2\x90\x9b[31mred"},
        {"NUL becomes U+2400, DEL U+2421", std::string("X-Note: a\0b\x7f", 12),
         "X-Note: =?UTF-8?B?YeKQgGLikKE=?=",
         " a\xe2\x90\x80"
         "b\xe2\x90\xa1"},
        {"C1 controls and Latin-1 0x80-0x9F become U+FFFD",
         "Subject: \xc2\x9b"
         "a\x9b",
         "Subject: =?UTF-8?B?77+9Ye+/vQ==?=",
         " \xef\xbf\xbd"
         "a\xef\xbf\xbd"},
        {"display name with 8-bit bytes in From: unquoted, encoded as a phrase",
         "From: \"P\xe9rez, Jos\xc3\xa9\" <jp@x.org>",
         "From: =?UTF-8?B?UMOpcmV6LCBKb3PDqQ==?= <jp@x.org>",
         " P\xc3\xa9rez, Jos\xc3\xa9 <jp@x.org>"},
        {"bare 8-bit display name and comment in To; the addr-specs stay",
         "To: Gr\xfc\xdf <a@x.org>, b@y.org (M\xfcller)",
         "To: =?UTF-8?B?R3LDvMOf?= <a@x.org>, b@y.org (=?UTF-8?B?TcO8bGxlcg==?=)",
         " Gr\xc3\xbc\xc3\x9f <a@x.org>, b@y.org (M\xc3\xbcller)"},
        {"8-bit group name", "Cc: T\xe9\x61m: a@x.org;", "Cc: =?UTF-8?B?VMOpYW0=?= : a@x.org;",
         " T\xc3\xa9\x61m : a@x.org;"},
        {"an 8-bit addr-spec cannot be encoded: renamed, as unstructured text",
         "Reply-To: j\xf6rg@x.org",
         "X-Postern-Original-Reply-To: =?UTF-8?B?asO2cmdAeC5vcmc=?=", " j\xc3\xb6rg@x.org"},
        {"a structured field with 8-bit bytes is renamed", "Message-ID: <\xe9@x>",
         "X-Postern-Original-Message-ID: =?UTF-8?B?PMOpQHg+?=", " <\xc3\xa9@x>"},
        {"a stray CR becomes a space", "Subject: a\rb", "Subject: a b", " a b"},
        {"already-ASCII field is unchanged byte for byte, folding and spacing included",
         "Subject:  plain\t ASCII (with =?odd?= bits) \r\n\tfolded",
         "Subject:  plain\t ASCII (with =?odd?= bits) \r\n\tfolded",
         "  plain\t ASCII (with =?odd?= bits) \tfolded"},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            std::vector<Header> hs = {hdr(c.in)};
            encode_header_bytes(hs);
            REQUIRE(hs.size() == 1);
            CHECK(hs[0].raw == c.raw);
            check_7bit(hs[0].raw);
            CHECK(decode_rfc2047(hs[0].value()) == c.decoded);
        }
    }
    SUBCASE("long subject: several encoded-words of whole characters, folded under 76 octets")
    {
        std::string text;
        for (int i = 0; i < 40; ++i)
            text += "d\xc3\xa9j\xc3\xa0 vu \xe2\x82\xac ";
        std::vector<Header> hs = {hdr("Subject: " + text)};
        encode_header_bytes(hs);
        const std::string& raw = hs[0].raw;
        check_7bit(raw);
        CHECK(raw.find("\r\n ") != std::string::npos);
        size_t words = 0;
        for (size_t p = 0; (p = raw.find("=?UTF-8?B?", p)) != std::string::npos; ++p)
            ++words;
        CHECK(words > 10);
        CHECK(decode_rfc2047(hs[0].value()) == " " + text);
    }
    SUBCASE("a long To of encoded display names is refolded under 76 octets, addresses kept")
    {
        std::string v;
        for (int i = 0; i < 30; ++i)
            v += std::string(i ? ", " : " ") + "\"G\xfc" + std::to_string(i) + "\" <a" +
                 std::to_string(i) + "@x.org> (\xe9)";
        std::vector<Header> hs = {hdr("To:" + v)};
        encode_header_bytes(hs);
        check_7bit(hs[0].raw);
        auto list = parse_address_list(hs[0].value());
        REQUIRE(list.has_value());
        REQUIRE(list->size() == 30);
        CHECK((*list)[29].addr == "a29@x.org");
        CHECK(decode_rfc2047((*list)[29].display) == "G\xc3\xbc"
                                                     "29");
    }
    SUBCASE("a long field name leaves no room on the first line: the value folds at once")
    {
        std::string name = "X-" + std::string(70, 'n');
        std::vector<Header> hs = {hdr(name + ": caf\xe9")};
        encode_header_bytes(hs);
        CHECK(hs[0].raw == name + ":\r\n =?UTF-8?B?Y2Fmw6k=?=");
    }
    SUBCASE("fix-ups after encoding: a renamed From and Date are replaced, -t saw the "
            "addresses as written")
    {
        Fixture f;
        std::vector<std::string> rcpts;
        f.ctx.extract = true;
        std::vector<Header> hs = {hdr("From: j\xf6rg@x.org"), hdr("Date: Montag \xe9"),
                                  hdr("To: \"M\xfcller\" <m@x.org>"), hdr("Subject: caf\xe9")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(rcpts == std::vector<std::string>{"m@x.org"});
        REQUIRE(find(hs, "From"));
        CHECK(find(hs, "From")->raw == "From: <alice@example.org>");
        CHECK(find(hs, "X-Postern-Original-From")->raw ==
              "X-Postern-Original-From: =?UTF-8?B?asO2cmdAeC5vcmc=?=");
        CHECK(find(hs, "Date")->raw == "Date: " + rfc5322_date(f.ctx.now));
        CHECK(find(hs, "To")->raw == "To: =?UTF-8?B?TcO8bGxlcg==?= <m@x.org>");
        std::string section = format_headers(hs);
        for (unsigned char c : section)
            CHECK((c < 0x80 && (c >= 0x20 || c == '\r' || c == '\n' || c == '\t')));
    }
    SUBCASE("rewrite_from keeps an encoded display name")
    {
        Fixture f;
        std::vector<std::string> rcpts;
        f.cfg.sender.from = "alerts@example.com";
        std::vector<Header> hs = {hdr("From: root (Cr\xf6n Daemon)")};
        REQUIRE(fix_headers(hs, f.ctx, rcpts));
        CHECK(find(hs, "From")->raw == "From: =?UTF-8?B?Q3LDtm4gRGFlbW9u?= <alerts@example.com>");
    }
}
