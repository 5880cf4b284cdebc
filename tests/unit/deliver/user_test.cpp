// SPDX-License-Identifier: ISC
// User names and mailbox paths (notes/reliability.md 2.4).
#include "deliver/user.h"

#include <doctest/doctest.h>

#include <pwd.h>
#include <unistd.h>

using namespace postern;
using namespace postern::deliver;

TEST_CASE("user: name validation table")
{
    struct Case {
        const char* label;
        std::string name;
        bool ok;
    };
    const Case cases[] = {
        {"plain", "alice", true},
        {"with dot and dash", "a.b-c_d", true},
        {"32 characters", std::string(32, 'a'), true},
        {"33 characters", std::string(33, 'a'), false},
        {"slash", "a/b", false},
        {"dot dot", "..", false},
        {"dot dot slash", "../etc", false},
        {"leading dot", ".hidden", false},
        {"leading dash", "-f", false},
        {"newline", "a\nb", false},
        {"space", "a b", false},
        {"DEL", "a\x7f", false},
        {"empty", "", false},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            Status st = check_user_name(c.name);
            CHECK(bool(st) == c.ok);
            if (!st)
                CHECK(st.error().code == EX_NOUSER);
        }
    }
}

TEST_CASE("user: unknown user is EX_NOUSER, known one resolves")
{
    auto u = find_user("no-such-user-postern");
    REQUIRE_FALSE(u);
    CHECK(u.error().code == EX_NOUSER);
    CHECK(u.error().text.find("no such user") != std::string::npos);

    struct passwd* pw = ::getpwuid(::geteuid());
    REQUIRE(pw);
    auto me = find_user(pw->pw_name);
    REQUIRE(me);
    CHECK(me->uid == ::geteuid());
}

TEST_CASE("user: mailbox templates")
{
    User u{"bob", 1000, 1000, "/home/bob"};
    struct Case {
        const char* tmpl;
        const char* path;
        bool maildir;
    };
    const Case cases[] = {
        {"/var/mail/%u", "/var/mail/bob", false},
        {"%h/Maildir/", "/home/bob/Maildir", true},
        {"maildir:%h/Mail", "/home/bob/Mail", true},
        {"/x/100%%/%u", "/x/100%/bob", false},
    };
    for (const auto& c : cases) {
        SUBCASE(c.tmpl)
        {
            auto r = mailbox_path(c.tmpl, u);
            REQUIRE(r);
            CHECK(r->path == c.path);
            CHECK(r->maildir == c.maildir);
        }
    }
    // Only a template that starts with %h makes the home the starting
    // point for directories that must be made (mailbox_dir.h).
    CHECK(mailbox_path("maildir:%h/Maildir", u)->home == std::optional<std::string>("/home/bob"));
    CHECK(mailbox_path("%h/mail/inbox", u)->home == std::optional<std::string>("/home/bob"));
    CHECK_FALSE(mailbox_path("/var/mail/%u", u)->home);
    CHECK_FALSE(mailbox_path("/srv/%h", u)->home);
    CHECK_FALSE(mailbox_path("mail/%u", u));
    CHECK_FALSE(mailbox_path("/var/mail/%x", u));
}
