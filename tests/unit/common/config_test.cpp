// SPDX-License-Identifier: ISC
#include "common/config.h"

#include "test_util.h"

#include <doctest/doctest.h>

#include <set>

using namespace postern;
using postern::test::TempDir;

TEST_CASE("config: a missing file gives the defaults (SPEC: defaults serve)")
{
    auto c = load_config("/nonexistent/postern.conf");
    REQUIRE(c);
    CHECK_FALSE(c->file_found);
    CHECK(c->relay.hosts.empty());
    CHECK(c->relay.effective_port() == 587);
    CHECK(c->queue.dir == "/var/spool/postern");
    CHECK(c->queue.lifetime == 5 * 86400);
    CHECK(c->local.mailbox == "/var/mail/%u");
    CHECK(c->relay.connections == 4);
}

TEST_CASE("config: every SPEC key is read")
{
    TempDir t;
    auto p = t.write("p.conf", "[relay]\nhost = a.example, b.example\nport = 2525\n"
                               "tls = implicit\ntls_pin = sha256//abc\nca_file = /x/ca.pem\n"
                               "user = u@example.com\npassword_file = /etc/s\nauth = login\n"
                               "timeout = 2m\n[sender]\nfrom = a@example.com\n"
                               "rewrite_from = always\ndomain = example.com\n"
                               "[local]\ndomains = box.example, other\naliases = /x/aliases\n"
                               "mailbox = maildir:%h/Maildir\n[queue]\ndir = /tmp/q\n"
                               "lifetime = 3d\n[relay]\nconnections = 1\n");
    auto c = load_config(p);
    REQUIRE(c);
    CHECK(c->relay.hosts == std::vector<std::string>{"a.example", "b.example"});
    CHECK(c->relay.port == 2525);
    CHECK(c->relay.tls == TlsMode::Implicit);
    CHECK(c->relay.auth == AuthMode::Login);
    CHECK(c->relay.timeout == 120);
    CHECK(c->relay.connections == 1);
    CHECK(c->sender.rewrite_from == RewriteFrom::Always);
    CHECK(c->local.domains == std::vector<std::string>{"box.example", "other"});
    CHECK(c->queue.lifetime == 3 * 86400);
    CHECK(c->where("relay.user") == p + ":7");
}

TEST_CASE("config: errors name file:line")
{
    TempDir t;
    struct Case {
        const char* label;
        const char* text;
        const char* expect;
    } cases[] = {
        {"unknown key", "[relay]\nhots = x\n", ":2: unknown key 'hots' in [relay]"},
        {"unknown section", "[relais]\nhost = x\n", ":1: unknown section [relais]"},
        {"bad value", "[relay]\ntls = maybe\n", ":2: bad value 'maybe' for tls"},
        {"duplicate", "[relay]\nhost = a\nhost = b\n", ":3: duplicate key 'host'"},
        {"syntax", "[relay]\nhost\n", ":2: syntax error"},
        {"bad port", "[queue]\n\n[relay]\nport = 70000\n", ":4: bad value '70000' for port"},
        {"no connections", "[relay]\nconnections = 0\n", ":2: bad value '0' for connections"},
        {"too many connections", "[relay]\nconnections = 33\n",
         ":2: bad value '33' for connections: expected a number of connections 1-32"},
        {"long line",
         "[relay]\nhost = " /* 300 x */
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
         ":2: line too long"},
        {"verify off without pin", "[relay]\ntls_verify = no\n", ":2: tls_verify = no needs"},
        {"unknown empty section", "[relay]\nhost = x\n[rela]\n", ":3: unknown section [rela]"},
        {"password in clear",
         "[relay]\nhost = smtp.example.com\ntls = none\nuser = u\npassword = p\n",
         ":3: tls = none with a password"},
        {"two secrets", "[relay]\nuser = u\npassword = p\npassword_file = /x\n",
         ":4: set only one of"},
    };
    for (const auto& k : cases) {
        SUBCASE(k.label)
        {
            auto p = t.write("bad.conf", k.text);
            auto c = load_config(p);
            REQUIRE_FALSE(c);
            CHECK(c.error().code == EX_CONFIG);
            CHECK_MESSAGE(c.error().text.find(p + k.expect) == 0, c.error().text);
        }
    }
}

TEST_CASE("config: durations and sizes")
{
    CHECK(parse_duration("60") == 60);
    CHECK(parse_duration("10m") == 600);
    CHECK(parse_duration("5d") == 432000);
    CHECK(parse_duration("5x") == -1);
    CHECK(parse_duration("") == -1);
    CHECK(parse_size("10M") == 10 << 20);
    CHECK(parse_size("1k") == 1024);
    CHECK(parse_size("-1") == -1);
}

TEST_CASE("config: known_config_keys() is exactly what the loader takes")
{
    // Each listed key with a value no key accepts must fail as a bad value
    // (or load), never as an unknown key; a made-up key in each section
    // must fail as unknown. The list is what the docs are checked against.
    TempDir t;
    std::set<std::string> sections;
    for (const auto& k : known_config_keys()) {
        auto dot = k.find('.');
        std::string sec = k.substr(0, dot), key = k.substr(dot + 1);
        sections.insert(sec);
        auto p = t.write("k.conf", "[" + sec + "]\n" + key + " = !bogus!\n");
        auto c = load_config(p);
        if (!c)
            CHECK_MESSAGE(c.error().text.find("unknown") == std::string::npos, k, ": ",
                          c.error().text);
    }
    CHECK(sections == std::set<std::string>{"relay", "sender", "local", "queue", "log"});
    for (const auto& sec : sections) {
        auto p = t.write("u.conf", "[" + sec + "]\nnot_a_key = 1\n");
        auto c = load_config(p);
        REQUIRE_FALSE(c);
        CHECK(c.error().text.find("unknown key") != std::string::npos);
    }
}

TEST_CASE("config: a NUL byte is refused, not a silently shortened value (fuzzing)")
{
    TempDir t;
    auto p = t.write("nul.conf", std::string("[relay]\nhost = a\0b\n", 20));
    auto c = load_config(p);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == EX_CONFIG);
    CHECK(c.error().text == p + ":2: NUL byte");
}

TEST_CASE("config: error texts show control bytes escaped")
{
    TempDir t;
    auto p = t.write("ctl.conf", "[relay]\nho\x1bst = x\n");
    auto c = load_config(p);
    REQUIRE_FALSE(c);
    CHECK(c.error().text.find("\\x1B") != std::string::npos);
    CHECK(c.error().text.find('\x1b') == std::string::npos);
}
