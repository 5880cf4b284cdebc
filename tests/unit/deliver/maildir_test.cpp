// SPDX-License-Identifier: ISC
// Maildir delivery (notes/reliability.md 3.5).
#include "deliver/maildir.h"

#include "../common/test_util.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

using namespace postern;
using namespace postern::deliver;
using postern::test::TempDir;
namespace fs = std::filesystem;

TEST_CASE("maildir: names are unique and safe")
{
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        std::string n = maildir_name();
        CHECK(n.find('/') == std::string::npos);
        CHECK(n.find(':') == std::string::npos);
        CHECK(n[0] != '.');
        CHECK(n.find(".M") != std::string::npos);
        CHECK(n.find("P" + std::to_string(::getpid()) + "R") != std::string::npos);
        seen.insert(n);
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("maildir: delivery creates tmp/new/cur and lands in new/")
{
    TempDir t;
    std::string md = t.file("Maildir");
    auto r = maildir_deliver(md, [](const Sink& s) { return s("Subject: x\n\nbody\n"); });
    REQUIRE(r);
    CHECK(fs::is_directory(md + "/tmp"));
    CHECK(fs::is_directory(md + "/cur"));
    CHECK(fs::is_empty(md + "/tmp"));
    CHECK(r->rfind(md + "/new/", 0) == 0);
    std::ifstream in(*r);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str() == "Subject: x\n\nbody\n");
    CHECK((fs::status(md + "/new").permissions() & fs::perms::group_all) == fs::perms::none);
}

TEST_CASE("maildir: a failing writer leaves nothing in tmp/ or new/")
{
    TempDir t;
    std::string md = t.file("Maildir");
    auto r = maildir_deliver(md, [](const Sink& s) {
        Status st = s("partial");
        if (!st)
            return st;
        return Status(fail(EX_IOERR, "read message: boom"));
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EX_IOERR);
    CHECK(fs::is_empty(md + "/tmp"));
    CHECK(fs::is_empty(md + "/new"));
}

TEST_CASE("maildir: a file where the Maildir should be is a temporary error")
{
    TempDir t;
    t.write("Maildir", "not a dir");
    auto r = maildir_deliver(t.file("Maildir"), [](const Sink& s) { return s("x\n"); });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EX_TEMPFAIL);
}

TEST_CASE("maildir: %h/Maildir is made for a user who never had mail (issue 10)")
{
    TempDir t;
    std::string home = t.file("home");
    REQUIRE(::mkdir(home.c_str(), 0755) == 0);
    auto r = maildir_deliver(
        home + "/Maildir", [](const Sink& s) { return s("Subject: x\n\nbody\n"); }, home);
    REQUIRE(r);
    for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
        CAPTURE(sub);
        CHECK(fs::is_directory(home + "/Maildir" + sub));
        CHECK((fs::status(home + "/Maildir" + sub).permissions() & fs::perms::all) ==
              fs::perms::owner_all);
    }
    CHECK(r->rfind(home + "/Maildir/new/", 0) == 0);
}

TEST_CASE("maildir: nothing is made through a symbolic link (issue 10)")
{
    TempDir t;
    std::string home = t.file("home");
    std::string elsewhere = t.file("elsewhere");
    REQUIRE(::mkdir(home.c_str(), 0755) == 0);
    REQUIRE(::mkdir(elsewhere.c_str(), 0755) == 0);
    auto write = [](const Sink& s) { return s("x\n"); };
    SUBCASE("the Maildir is a link")
    {
        REQUIRE(::symlink(elsewhere.c_str(), (home + "/Maildir").c_str()) == 0);
        auto r = maildir_deliver(home + "/Maildir", write, home);
        REQUIRE_FALSE(r);
        CHECK(r.error().text.find("symbolic link") != std::string::npos);
    }
    SUBCASE("a directory on the way is a link")
    {
        REQUIRE(::symlink(elsewhere.c_str(), (home + "/Mail").c_str()) == 0);
        auto r = maildir_deliver(home + "/Mail/Maildir", write, home);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == EX_TEMPFAIL);
    }
    SUBCASE("new/ is a link")
    {
        REQUIRE(::mkdir((home + "/Maildir").c_str(), 0700) == 0);
        REQUIRE(::symlink(elsewhere.c_str(), (home + "/Maildir/new").c_str()) == 0);
        auto r = maildir_deliver(home + "/Maildir", write, home);
        REQUIRE_FALSE(r);
        CHECK(fs::is_empty(home + "/Maildir/tmp"));
    }
    CHECK(fs::is_empty(elsewhere));
}
