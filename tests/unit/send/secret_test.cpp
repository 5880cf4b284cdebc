// SPDX-License-Identifier: ISC
#include "send/secret.h"

#include "../common/test_util.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace postern;
using namespace postern::send;
using postern::test::TempDir;

TEST_CASE("secret: password_file checks (reliability.md 2.5)")
{
    TempDir t;
    auto p = t.write("secret", "s3cret\nsecond line\n");
    SUBCASE("mode 0600: first line")
    {
        ::chmod(p.c_str(), 0600);
        auto s = read_secret_file(p, "x.conf:3");
        REQUIRE(s);
        CHECK(*s == "s3cret");
    }
    SUBCASE("group or world readable is refused, naming the file")
    {
        for (mode_t m : {0640, 0644, 0604}) {
            ::chmod(p.c_str(), m);
            auto s = read_secret_file(p, "x.conf:3");
            REQUIRE_FALSE(s);
            CHECK(s.error().code == EX_CONFIG);
            CHECK(s.error().text.find(p) != std::string::npos);
            CHECK(s.error().text.find("x.conf:3") == 0);
            CHECK(s.error().text.find("s3cret") == std::string::npos);
        }
    }
    SUBCASE("a symlink is refused")
    {
        ::chmod(p.c_str(), 0600);
        std::string l = t.file("link");
        REQUIRE(::symlink(p.c_str(), l.c_str()) == 0);
        CHECK_FALSE(read_secret_file(l, "x"));
    }
    SUBCASE("missing and empty files are configuration errors")
    {
        CHECK(read_secret_file(t.file("nope"), "x").error().code == EX_CONFIG);
        auto e = t.write("empty", "\n");
        ::chmod(e.c_str(), 0600);
        CHECK(read_secret_file(e, "x").error().code == EX_CONFIG);
    }
}

TEST_CASE("secret: password_command runs without a shell")
{
    CHECK(split_words("  /bin/echo  a\tb ") == std::vector<std::string>{"/bin/echo", "a", "b"});
    auto s = run_secret_command("/bin/echo token-1 $HOME", "x", 5);
    REQUIRE(s);
    CHECK(*s == "token-1 $HOME"); // no shell expansion
    auto f = run_secret_command("/bin/false", "x", 5);
    REQUIRE_FALSE(f);
    CHECK(f.error().code == EX_TEMPFAIL);
    CHECK(run_secret_command("echo x", "x", 5).error().code == EX_CONFIG);
    auto slow = run_secret_command("/bin/sleep 5", "x", 1);
    REQUIRE_FALSE(slow);
    CHECK(slow.error().text.find("timed out") != std::string::npos);
}
