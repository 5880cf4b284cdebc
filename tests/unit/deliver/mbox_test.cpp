// SPDX-License-Identifier: ISC
// Safe open, locking and rollback of mbox files (notes/reliability.md 2.4,
// 3.4; tests 50, 53, 54).
#include "deliver/mbox.h"

#include "../common/test_util.h"
#include "no_write_access.h"

#include <doctest/doctest.h>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace postern;
using namespace postern::deliver;
using postern::test::TempDir;

namespace {

std::string slurp(const std::string& p)
{
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

OpenRules mine()
{
    OpenRules r;
    r.owner = ::geteuid();
    return r;
}

} // namespace

TEST_CASE("mbox: a new mailbox is created 0600 and appended to")
{
    TempDir t;
    auto fd = open_mbox(t.file("u"), mine());
    REQUIRE(fd);
    struct stat st;
    REQUIRE(::fstat(fd->get(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_uid == ::geteuid());
    auto app = MboxAppend::begin(fd->get(), "u");
    REQUIRE(app);
    REQUIRE(app->write("hello\n"));
    REQUIRE(app->commit());
    CHECK(slurp(t.file("u")) == "hello\n");
}

TEST_CASE("mbox: unsafe mailboxes are refused (tests 53, 54)")
{
    TempDir t;
    std::string victim = t.write("victim", "precious\n");
    std::string box = t.file("box");
    SUBCASE("symlink") { REQUIRE(::symlink(victim.c_str(), box.c_str()) == 0); }
    SUBCASE("hard link") { REQUIRE(::link(victim.c_str(), box.c_str()) == 0); }
    SUBCASE("FIFO (no hang)") { REQUIRE(::mkfifo(box.c_str(), 0600) == 0); }
    SUBCASE("directory") { REQUIRE(::mkdir(box.c_str(), 0700) == 0); }
    auto fd = open_mbox(box, mine());
    REQUIRE_FALSE(fd);
    CHECK(fd.error().code == EX_TEMPFAIL);
    CHECK(fd.error().text.find("refused") != std::string::npos);
    CHECK(slurp(victim) == "precious\n");
}

TEST_CASE("mbox: a mailbox owned by someone else is refused")
{
    TempDir t;
    t.write("box", "");
    OpenRules r;
    r.owner = ::geteuid() + 1;
    auto fd = open_mbox(t.file("box"), r);
    REQUIRE_FALSE(fd);
    CHECK(fd.error().text.find("owned by") != std::string::npos);
}

TEST_CASE("mbox: may_create=false refuses a missing mailbox")
{
    TempDir t;
    OpenRules r = mine();
    r.may_create = false;
    auto fd = open_mbox(t.file("box"), r);
    REQUIRE_FALSE(fd);
    CHECK(fd.error().code == EX_TEMPFAIL);
    struct stat st;
    CHECK(::lstat(t.file("box").c_str(), &st) < 0);
}

TEST_CASE("mbox: an append is rolled back unless committed")
{
    TempDir t;
    t.write("box", "old message\n");
    auto fd = open_mbox(t.file("box"), mine());
    REQUIRE(fd);
    {
        auto app = MboxAppend::begin(fd->get(), "box");
        REQUIRE(app);
        REQUIRE(app->write("half a mess"));
    }
    CHECK(slurp(t.file("box")) == "old message\n");
}

TEST_CASE("mbox: a write error (EFBIG) truncates back to the old size (test 50)")
{
    TempDir t;
    t.write("box", "old message\n");
    auto fd = open_mbox(t.file("box"), mine());
    REQUIRE(fd);
    auto app = MboxAppend::begin(fd->get(), "box");
    REQUIRE(app);

    struct rlimit old;
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto prev = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 100;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    Status st = app->write(std::string(1000, 'x'));
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, prev);

    REQUIRE_FALSE(st);
    CHECK(st.error().code == EX_TEMPFAIL);
    CHECK(slurp(t.file("box")) == "old message\n");
    CHECK_FALSE(app->commit()); // a failed append cannot be committed
}

TEST_CASE("mbox: locks exclude each other and time out with EX_TEMPFAIL")
{
    TempDir t;
    t.write("box", "");
    auto fd1 = open_mbox(t.file("box"), mine());
    auto fd2 = open_mbox(t.file("box"), mine());
    REQUIRE(fd1);
    REQUIRE(fd2);
    {
        auto l1 = MboxLock::acquire(fd1->get(), t.file("box.lock"), 1, "box");
        REQUIRE(l1);
        struct stat st;
        CHECK(::lstat(t.file("box.lock").c_str(), &st) == 0);
        // An OFD lock on another open file description conflicts even in
        // the same process.
        time_t start = ::time(nullptr);
        auto l2 = MboxLock::acquire(fd2->get(), t.file("box.lock"), 1, "box");
        REQUIRE_FALSE(l2);
        CHECK(l2.error().code == EX_TEMPFAIL);
        CHECK(l2.error().text.find("locked") != std::string::npos);
        CHECK(::time(nullptr) - start <= 3);
    }
    // Released: both locks are free again.
    struct stat st;
    CHECK(::lstat(t.file("box.lock").c_str(), &st) < 0);
    auto l3 = MboxLock::acquire(fd2->get(), t.file("box.lock"), 1, "box");
    CHECK(l3);
}

TEST_CASE("mbox: a held dotlock alone also blocks, then times out")
{
    TempDir t;
    t.write("box", "");
    t.write("box.lock", std::to_string(::getppid()) + "\n");
    auto fd = open_mbox(t.file("box"), mine());
    REQUIRE(fd);
    auto l = MboxLock::acquire(fd->get(), t.file("box.lock"), 1, "box");
    REQUIRE_FALSE(l);
    CHECK(l.error().code == EX_TEMPFAIL);
    // The foreign lock was left alone.
    CHECK(slurp(t.file("box.lock")) == std::to_string(::getppid()) + "\n");
}

TEST_CASE("mbox: where no dot lock can be made, the fcntl lock alone is taken (issue 10)")
{
    TempDir t;
    std::string box = t.write("box", "");
    REQUIRE(::chown(box.c_str(), postern::test::child_uid(), static_cast<gid_t>(-1)) == 0);
    // The child's verdict: 0 locked by fcntl alone, 75 the lock's error
    // code, anything else a surprise.
    auto deliver_lock = [&] {
        return postern::test::without_write_access(t.path(), [&] {
            OpenRules rules;
            rules.owner = ::geteuid();
            auto fd = open_mbox(box, rules);
            if (!fd)
                return 10;
            auto l = MboxLock::acquire(fd->get(), box + ".lock", 1, "box");
            if (!l)
                return l.error().code;
            return l->dotlocked() ? 11 : 0;
        });
    };
    SUBCASE("free: locked without a dot lock, nothing left behind")
    {
        CHECK(deliver_lock() == 0);
        CHECK_FALSE(std::ifstream(box + ".lock").good());
    }
    SUBCASE("a held fcntl lock is still waited for, then EX_TEMPFAIL")
    {
        int fd = ::open(box.c_str(), O_RDWR);
        REQUIRE(fd >= 0);
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        REQUIRE(::fcntl(fd, F_SETLK, &fl) == 0); // a classic POSIX lock, as mailx takes
        time_t start = ::time(nullptr);
        CHECK(deliver_lock() == EX_TEMPFAIL);
        CHECK(::time(nullptr) - start >= 1);
        ::close(fd);
    }
    SUBCASE("a held dot lock is still waited for, then EX_TEMPFAIL")
    {
        t.write("box.lock", std::to_string(::getpid()) + "\n");
        CHECK(deliver_lock() == EX_TEMPFAIL);
    }
}

TEST_CASE("mbox: a From_ line always starts a message of its own")
{
    TempDir t;
    struct Case {
        const char* content;
        const char* separator;
    };
    const Case cases[] = {
        {"", ""},
        {"From a\n\nbody\n\n", ""},
        {"From a\n\nbody\n", "\n"},
        {"From a\n\nbody cut in the mid", "\n\n"},
        {"\n", ""},
        {"x", "\n\n"},
    };
    for (const auto& c : cases) {
        std::string p = t.write("box", c.content);
        int fd = ::open(p.c_str(), O_RDWR);
        REQUIRE(fd >= 0);
        off_t end = ::lseek(fd, 0, SEEK_END);
        CHECK(mbox_separator(fd, end) == c.separator);
        ::close(fd);
    }
}
