// SPDX-License-Identifier: ISC
// aliases(5) parsing and expansion (SPEC "Routing").
#include "common/aliases.h"

#include "test_util.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

using namespace postern;
using postern::test::TempDir;

namespace {

Config local_cfg()
{
    Config c;
    c.local.domains = {"localhost", "box.example"};
    return c;
}

// "kind:address" for each recipient, in order.
std::vector<std::string> expand(const std::string& text, const std::string& rcpt,
                                bool trusted = true)
{
    auto a = Aliases::parse(text, "aliases", trusted);
    REQUIRE_MESSAGE(a, (a ? "" : a.error().text));
    auto r = expand_recipient(rcpt, *a, local_cfg());
    REQUIRE_MESSAGE(r, (r ? "" : r.error().text));
    std::vector<std::string> out;
    for (const auto& x : *r)
        out.push_back(std::string(rcpt_kind_name(x.kind)) + ":" + x.address);
    return out;
}

using V = std::vector<std::string>;

} // namespace

TEST_CASE("aliases: expansion table (SPEC: aliases(5) syntax)")
{
    struct Case {
        const char* label;
        const char* text;
        const char* rcpt;
        V want;
    };
    const Case cases[] = {
        {"root: admin@example.com, the classic",
         "root: admin@example.com\n",
         "root",
         {"relay:admin@example.com"}},
        {"postmaster falls back to root's alias",
         "root: admin@example.com\n",
         "postmaster",
         {"relay:admin@example.com"}},
        {"mailer-daemon falls back to root", "", "MAILER-DAEMON", {"local:root"}},
        {"no alias: the lower-case local user", "", "Alice", {"local:alice"}},
        {"local domain is looked up", "bob: carol\n", "bob@box.example", {"local:carol"}},
        {"localhost is local", "bob: carol\n", "bob@LOCALHOST", {"local:carol"}},
        {"remote address is not expanded",
         "bob: carol\n",
         "bob@remote.example",
         {"relay:bob@remote.example"}},
        {"several targets, comments and blank lines",
         "# comment\n\nstaff: alice, bob@remote.example ,  carol\n",
         "staff",
         {"local:alice", "relay:bob@remote.example", "local:carol"}},
        {"continuation lines",
         "staff: alice,\n  bob,\n\tcarol\n",
         "staff",
         {"local:alice", "local:bob", "local:carol"}},
        {"continuation without trailing comma",
         "staff: alice\n  bob\n",
         "staff",
         {"local:alice", "local:bob"}},
        {"names are case-insensitive", "Staff: alice\n", "STAFF", {"local:alice"}},
        {"recursive expansion",
         "a: b\nb: c\nc: x@remote.example\n",
         "a",
         {"relay:x@remote.example"}},
        {"self reference keeps a mailbox copy",
         "alice: alice, alice@remote.example\n",
         "alice",
         {"local:alice", "relay:alice@remote.example"}},
        {"a loop stops at the name seen twice", "a: b\nb: a\n", "a", {"local:a"}},
        {"backslash stops expansion",
         "alice: \\alice, bob\nbob: x@remote.example\n",
         "alice",
         {"local:alice", "relay:x@remote.example"}},
        {"file target", "log: /var/log/mail-archive\n", "log", {"file:/var/log/mail-archive"}},
        {"command target without the pipe",
         "prog: |/usr/bin/procmail\n",
         "prog",
         {"command:/usr/bin/procmail"}},
        {"quoted command with spaces and comma",
         "prog: \"|/bin/cat -u, x\", bob\n",
         "prog",
         {"command:/bin/cat -u, x", "local:bob"}},
        {"duplicates are delivered once", "a: bob, bob, c\nc: bob\n", "a", {"local:bob"}},
        {"a name already expanded is not expanded twice",
         "a: b, c\nb: d\nc: d\nd: z@r.example\n",
         "a",
         {"relay:z@r.example"}},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label) { CHECK(expand(c.text, c.rcpt) == c.want); }
    }
}

TEST_CASE("aliases: orig is set when expansion changed the address")
{
    auto a = Aliases::parse("root: admin@example.com\n", "aliases", true);
    REQUIRE(a);
    auto r = expand_recipient("root", *a, local_cfg());
    REQUIRE(r);
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].orig == "root");
    auto same = expand_recipient("x@remote.example", *a, local_cfg());
    REQUIRE(same);
    CHECK((*same)[0].orig.empty());
}

TEST_CASE("aliases: load errors name file:line (newaliases check)")
{
    struct Case {
        const char* label;
        const char* text;
        const char* where;
    };
    const Case cases[] = {
        {"missing colon", "root admin\n", "aliases:1:"},
        {"continuation first", "  bob\n", "aliases:1:"},
        {"unbalanced quote", "a: b\nroot: \"|cmd\n", "aliases:2:"},
        {"no targets", "a: b\n\nroot:\n", "aliases:3:"},
        {"space in name", "ro ot: x\n", "aliases:1:"},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            auto a = Aliases::parse(c.text, "aliases", true);
            REQUIRE_FALSE(a);
            CHECK(a.error().code == EX_CONFIG);
            CHECK(a.error().text.find(c.where) == 0);
        }
    }
}

TEST_CASE("aliases: duplicate names keep the first entry and warn")
{
    auto a = Aliases::parse("a: b\nA: c\n", "aliases", true);
    REQUIRE(a);
    REQUIRE(a->find("a"));
    CHECK(a->find("a")->targets == V{"b"});
    REQUIRE(a->warnings().size() == 1);
    CHECK(a->warnings()[0].find("aliases:2:") == 0);
}

TEST_CASE("aliases: file and command targets need a trusted file (SPEC: root-owned)")
{
    struct Case {
        const char* label;
        const char* text;
        const char* rcpt;
    };
    const Case cases[] = {
        {"file", "x: /tmp/evil\n", "x"},
        {"command", "x: |/bin/sh -c id\n", "x"},
        {"through a local name", "x: y\ny: |touch /tmp/p\n", "x"},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            auto a = Aliases::parse(c.text, "aliases", false);
            REQUIRE(a);
            auto r = expand_recipient(c.rcpt, *a, local_cfg());
            REQUIRE_FALSE(r);
            CHECK(r.error().code == EX_CONFIG);
            CHECK(r.error().text.find("aliases:") == 0);
            CHECK(r.error().text.find("untrusted") != std::string::npos);
        }
    }
    // Plain addresses still work from an untrusted file.
    CHECK(expand("x: bob\n", "x", false) == V{"local:bob"});
}

TEST_CASE("aliases: trust rule")
{
    CHECK(alias_file_trusted(0, 0644, 0));
    CHECK(alias_file_trusted(0, 0644, 1000));
    CHECK_FALSE(alias_file_trusted(0, 0664, 0));
    CHECK_FALSE(alias_file_trusted(0, 0646, 0));
    CHECK(alias_file_trusted(1000, 0600, 1000));
    CHECK_FALSE(alias_file_trusted(1000, 0600, 0));
    CHECK_FALSE(alias_file_trusted(1000, 0600, 1001));
}

TEST_CASE("aliases: load from disk, :include: and trust of the file")
{
    TempDir t;
    auto inc = t.write("list", "# members\nalice, bob@remote.example\n\"|/bin/cat\"\n");
    ::chmod(inc.c_str(), 0644);
    auto path = t.write("aliases", "team: :include:" + inc + "\nroot: team\n");
    ::chmod(path.c_str(), 0644);

    SUBCASE("missing file is an empty table")
    {
        auto a = Aliases::load(t.file("nope"));
        REQUIRE(a);
        CHECK(a->size() == 0);
    }
    SUBCASE("own file is trusted: include with a command works")
    {
        auto a = Aliases::load(path);
        REQUIRE(a);
        CHECK(a->trusted());
        auto r = expand_recipient("root", *a, local_cfg());
        REQUIRE_MESSAGE(r, (r ? "" : r.error().text));
        REQUIRE(r->size() == 3);
        CHECK((*r)[0].address == "alice");
        CHECK((*r)[1].kind == RcptKind::Relay);
        CHECK((*r)[2].kind == RcptKind::Command);
        CHECK((*r)[2].address == "/bin/cat");
    }
    SUBCASE("group-writable include file: its command is refused, naming file:line")
    {
        ::chmod(inc.c_str(), 0664);
        auto a = Aliases::load(path);
        REQUIRE(a);
        auto r = expand_recipient("team", *a, local_cfg());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == EX_CONFIG);
        CHECK(r.error().text.find(inc + ":3:") == 0);
    }
    SUBCASE("world-writable aliases file is untrusted")
    {
        ::chmod(path.c_str(), 0666);
        auto a = Aliases::load(path);
        REQUIRE(a);
        CHECK_FALSE(a->trusted());
        CHECK_FALSE(expand_recipient("team", *a, local_cfg()));
    }
    SUBCASE("missing include is an EX_CONFIG naming the entry")
    {
        auto p2 = t.write("aliases2", "x: :include:" + t.file("gone") + "\n");
        ::chmod(p2.c_str(), 0644);
        auto a = Aliases::load(p2);
        REQUIRE(a);
        auto r = expand_recipient("x", *a, local_cfg());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == EX_CONFIG);
        CHECK(r.error().text.find(p2 + ":1:") == 0);
    }
    SUBCASE("an empty include yields nothing: EX_DATAERR")
    {
        auto empty = t.write("empty", "# nobody\n");
        auto p3 = t.write("aliases3", "x: :include:" + empty + "\n");
        auto a = Aliases::load(p3);
        REQUIRE(a);
        auto r = expand_recipient("x", *a, local_cfg());
        REQUIRE_FALSE(r);
        CHECK(r.error().code == EX_DATAERR);
    }
}

TEST_CASE("aliases: nesting too deep is an error, not a crash")
{
    std::string text;
    for (int i = 0; i < 40; ++i)
        text += "a" + std::to_string(i) + ": a" + std::to_string(i + 1) + "\n";
    auto a = Aliases::parse(text, "aliases", true);
    REQUIRE(a);
    auto r = expand_recipient("a0", *a, local_cfg());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EX_CONFIG);
}
