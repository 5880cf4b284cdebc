// SPDX-License-Identifier: ISC
// Missing mailbox directories are made by the recipient, 0700, from a
// trusted starting point and never through a symbolic link (issue 10).
#include "deliver/mailbox_dir.h"

#include "../common/test_util.h"

#include <doctest/doctest.h>

#include <filesystem>

#include <sys/stat.h>
#include <unistd.h>

using namespace postern;
using namespace postern::deliver;
using postern::test::TempDir;
namespace fs = std::filesystem;

namespace {

// The inode an fd refers to equals the one at path (not following links).
bool same_dir(int fd, const std::string& path)
{
    struct stat a, b;
    return ::fstat(fd, &a) == 0 && ::lstat(path.c_str(), &b) == 0 && S_ISDIR(b.st_mode) &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

mode_t mode_of(const std::string& path)
{
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

} // namespace

TEST_CASE("mailbox_dir: below the home, missing directories are made 0700")
{
    TempDir t;
    std::string home = t.file("home");
    REQUIRE(::mkdir(home.c_str(), 0755) == 0);
    SUBCASE("%h/Maildir")
    {
        auto fd = open_mailbox_dir(home + "/Maildir", home, true);
        REQUIRE(fd);
        CHECK(same_dir(fd->get(), home + "/Maildir"));
        CHECK(mode_of(home + "/Maildir") == 0700);
    }
    SUBCASE("%h/mail/a/b, and again once it exists")
    {
        for (int i = 0; i < 2; ++i) {
            auto fd = open_mailbox_dir(home + "/mail/a/b", home, true);
            REQUIRE(fd);
            CHECK(same_dir(fd->get(), home + "/mail/a/b"));
        }
        CHECK(mode_of(home + "/mail") == 0700);
        CHECK(mode_of(home + "/mail/a") == 0700);
    }
    SUBCASE("the home itself, with a trailing slash in the passwd entry")
    {
        auto fd = open_mailbox_dir(home, home + "/", true);
        REQUIRE(fd);
        CHECK(same_dir(fd->get(), home));
    }
    SUBCASE("may_create=false: a missing directory is an error, nothing made")
    {
        auto fd = open_mailbox_dir(home + "/Maildir", home, false);
        REQUIRE_FALSE(fd);
        CHECK(fd.error().code == EX_TEMPFAIL);
        CHECK(fs::is_empty(home));
    }
}

TEST_CASE("mailbox_dir: a missing home is never created")
{
    TempDir t;
    std::string home = t.file("gone");
    auto fd = open_mailbox_dir(home + "/Maildir", home, true);
    REQUIRE_FALSE(fd);
    CHECK(fd.error().code == EX_TEMPFAIL);
    CHECK(fd.error().text.find("home directory " + home + " does not exist") != std::string::npos);
    CHECK_FALSE(fs::exists(home));
    auto none = open_mailbox_dir("/Maildir", std::string(), true);
    REQUIRE_FALSE(none);
    CHECK(none.error().text.find("no home directory") != std::string::npos);
}

TEST_CASE("mailbox_dir: symbolic links below the home are not followed")
{
    TempDir t;
    std::string home = t.file("home");
    std::string elsewhere = t.file("elsewhere");
    REQUIRE(::mkdir(home.c_str(), 0755) == 0);
    REQUIRE(::mkdir(elsewhere.c_str(), 0755) == 0);
    SUBCASE("a link to a directory where a component would be made")
    {
        REQUIRE(::symlink(elsewhere.c_str(), (home + "/mail").c_str()) == 0);
        auto fd = open_mailbox_dir(home + "/mail/Maildir", home, true);
        REQUIRE_FALSE(fd);
        CHECK(fd.error().text.find("symbolic link") != std::string::npos);
        CHECK(fs::is_empty(elsewhere));
    }
    SUBCASE("a dangling link where the last component would be made")
    {
        std::string target = elsewhere + "/made-through-link";
        REQUIRE(::symlink(target.c_str(), (home + "/Maildir").c_str()) == 0);
        auto fd = open_mailbox_dir(home + "/Maildir", home, true);
        REQUIRE_FALSE(fd);
        CHECK(fd.error().text.find("symbolic link") != std::string::npos);
        CHECK_FALSE(fs::exists(target));
    }
    SUBCASE("a file in the way")
    {
        t.write("home/mail", "x");
        auto fd = open_mailbox_dir(home + "/mail/inbox-dir", home, true);
        REQUIRE_FALSE(fd);
        CHECK(fd.error().text.find("not a directory") != std::string::npos);
    }
    SUBCASE("'..' is refused")
    {
        auto fd = open_mailbox_dir(home + "/../elsewhere/x", home, true);
        REQUIRE_FALSE(fd);
        CHECK(fs::is_empty(elsewhere));
    }
}

TEST_CASE("mailbox_dir: without %h, an existing directory is taken as it stands")
{
    TempDir t;
    std::string spool = t.file("spool");
    REQUIRE(::mkdir(spool.c_str(), 0755) == 0);
    // /var/spool/mail -> ../mail, as Debian has it.
    REQUIRE(::symlink(spool.c_str(), t.file("link").c_str()) == 0);
    auto fd = open_mailbox_dir(t.file("link"), std::nullopt, false);
    REQUIRE(fd);
    CHECK(same_dir(fd->get(), spool));
    SUBCASE("missing ones are made below the deepest existing ancestor")
    {
        auto made = open_mailbox_dir(spool + "/a/b", std::nullopt, true);
        REQUIRE(made);
        CHECK(same_dir(made->get(), spool + "/a/b"));
        CHECK(mode_of(spool + "/a") == 0700);
    }
    SUBCASE("never through a dangling link")
    {
        std::string target = t.file("made-through-link");
        REQUIRE(::symlink(target.c_str(), (spool + "/a").c_str()) == 0);
        auto made = open_mailbox_dir(spool + "/a/b", std::nullopt, true);
        REQUIRE_FALSE(made);
        CHECK(made.error().text.find("symbolic link") != std::string::npos);
        CHECK_FALSE(fs::exists(target));
    }
}
