// SPDX-License-Identifier: ISC
// Dotlocks the liblockfile way (notes/reliability.md 3.2, test 49, 55).
#include "deliver/dotlock.h"

#include "../common/test_util.h"
#include "no_write_access.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace postern::deliver;
using postern::test::TempDir;

namespace {

bool exists(const std::string& p)
{
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
}

void age(const std::string& p, long seconds)
{
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = ::time(nullptr) - seconds;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// A pid that is certainly dead: a child that has been reaped.
pid_t dead_pid()
{
    pid_t p = ::fork();
    if (p == 0)
        ::_exit(0);
    ::waitpid(p, nullptr, 0);
    return p;
}

// Number of directory entries (temporary .lk files included).
int entries(const std::string& dir)
{
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

} // namespace

TEST_CASE("dotlock: acquire, held, release")
{
    TempDir t;
    std::string lock = t.file("user.lock");
    {
        Dotlock a;
        auto r = a.try_lock(lock);
        REQUIRE(r);
        CHECK(*r == LockAttempt::Taken);
        CHECK(a.held());
        CHECK(exists(lock));
        // The lock holds our pid, as liblockfile writes it.
        std::ifstream in(lock);
        long pid = 0;
        in >> pid;
        CHECK(pid == ::getpid());

        Dotlock b;
        auto r2 = b.try_lock(lock);
        REQUIRE(r2);
        CHECK(*r2 == LockAttempt::Busy); // held by a live process (us)
        CHECK_FALSE(b.held());
    }
    CHECK_FALSE(exists(lock));     // destructor removed it
    CHECK(entries(t.path()) == 0); // no .lk temporary files left
}

TEST_CASE("dotlock: stale rules (dead pid, older than 300 s)")
{
    TempDir t;
    std::string lock = t.file("u.lock");
    SUBCASE("dead pid is stale and broken")
    {
        t.write("u.lock", std::to_string(dead_pid()) + "\n");
        CHECK(dotlock_is_stale(lock, ::time(nullptr)));
        Dotlock d;
        auto r = d.try_lock(lock);
        REQUIRE(r);
        CHECK(*r == LockAttempt::Taken);
    }
    SUBCASE("live pid, fresh: held")
    {
        t.write("u.lock", std::to_string(::getppid()) + "\n");
        CHECK_FALSE(dotlock_is_stale(lock, ::time(nullptr)));
        Dotlock d;
        auto r = d.try_lock(lock);
        REQUIRE(r);
        CHECK(*r == LockAttempt::Busy);
        CHECK(exists(lock));
    }
    SUBCASE("no pid, fresh: held; no pid, 301 s old: stale")
    {
        t.write("u.lock", "");
        CHECK_FALSE(dotlock_is_stale(lock, ::time(nullptr)));
        age(lock, 301);
        CHECK(dotlock_is_stale(lock, ::time(nullptr)));
        Dotlock d;
        auto r = d.try_lock(lock);
        REQUIRE(r);
        CHECK(*r == LockAttempt::Taken);
    }
    SUBCASE("a fresh symlink is held and never followed")
    {
        std::string target = t.write("target", "keep");
        REQUIRE(::symlink(target.c_str(), lock.c_str()) == 0);
        Dotlock d;
        auto r = d.try_lock(lock);
        REQUIRE(r);
        CHECK(*r == LockAttempt::Busy);
        std::ifstream in(target);
        std::string s;
        in >> s;
        CHECK(s == "keep");
    }
    SUBCASE("an old symlink is removed as a link, its target stays")
    {
        std::string target = t.write("target", "keep");
        REQUIRE(::symlink(target.c_str(), lock.c_str()) == 0);
        age(lock, 400);
        Dotlock d;
        auto r = d.try_lock(lock);
        REQUIRE(r);
        CHECK(*r == LockAttempt::Taken);
        CHECK(exists(target));
        struct stat st;
        REQUIRE(::lstat(lock.c_str(), &st) == 0);
        CHECK(S_ISREG(st.st_mode));
    }
    SUBCASE("a directory is held")
    {
        REQUIRE(::mkdir(lock.c_str(), 0700) == 0);
        Dotlock d;
        auto r = d.try_lock(lock);
        REQUIRE(r);
        CHECK(*r == LockAttempt::Busy);
    }
}

TEST_CASE("dotlock: an unwritable directory is a temporary error")
{
    Dotlock d;
    auto r = d.try_lock("/nonexistent-dir/u.lock");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == EX_TEMPFAIL);
}

TEST_CASE("dotlock: release leaves a lock that is no longer ours")
{
    TempDir t;
    std::string lock = t.file("u.lock");
    Dotlock d;
    REQUIRE(*d.try_lock(lock) == LockAttempt::Taken);
    // Someone broke our lock and took a new one. The old inode is kept
    // alive under another name so the new lock cannot reuse its number.
    REQUIRE(::rename(lock.c_str(), t.file("old").c_str()) == 0);
    t.write("u.lock", "1\n");
    d.release();
    CHECK(exists(lock));
}

TEST_CASE("dotlock: a directory the user may not create files in (issue 10)")
{
    TempDir t;
    std::string lock = t.file("u.lock");
    // Exit status of the child: what try_lock() said.
    auto attempt = [&](const std::string& why_has) {
        return postern::test::without_write_access(t.path(), [&] {
            Dotlock d;
            auto r = d.try_lock(lock);
            if (!r)
                return 3;
            if (*r == LockAttempt::Unavailable)
                return d.why_unavailable().find(why_has) != std::string::npos ? 2 : 4;
            return *r == LockAttempt::Taken ? 0 : 1;
        });
    };
    SUBCASE("no lock there: Unavailable, the reason names the error")
    {
        CHECK(attempt("Permission denied") == 2);
        CHECK(entries(t.path()) == 0);
    }
    SUBCASE("a live lock someone else made is still Busy")
    {
        t.write("u.lock", std::to_string(::getpid()) + "\n");
        CHECK(attempt("") == 1);
        CHECK(exists(lock));
    }
    SUBCASE("a symlink at the lock name is Busy and not followed")
    {
        std::string target = t.write("target", "keep");
        REQUIRE(::symlink(target.c_str(), lock.c_str()) == 0);
        CHECK(attempt("") == 1);
        std::ifstream in(target);
        std::string s;
        in >> s;
        CHECK(s == "keep");
    }
    SUBCASE("a stale lock that cannot be removed: Unavailable, left in place")
    {
        t.write("u.lock", std::to_string(dead_pid()) + "\n");
        CHECK(attempt("cannot be removed") == 2);
        CHECK(exists(lock));
    }
}
