// SPDX-License-Identifier: ISC
#include "common/io.h"
#include "common/privilege.h"
#include "common/spool.h"

#include "test_util.h"

#include <doctest/doctest.h>

#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <set>

using namespace postern;
using postern::test::TempDir;

namespace {

std::set<std::string> names_in(const std::string& dir)
{
    std::set<std::string> out;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (auto* e = ::readdir(d))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
                out.insert(e->d_name);
        ::closedir(d);
    }
    return out;
}

} // namespace

TEST_CASE("spool: queue ids are unique, sortable and validated")
{
    std::set<std::string> ids;
    std::string prev;
    for (int i = 0; i < 1000; ++i) {
        std::string id = new_queue_id();
        CHECK(valid_queue_id(id));
        CHECK(id >= prev.substr(0, 8));
        ids.insert(id);
        prev = id;
    }
    CHECK(ids.size() == 1000);
    CHECK_FALSE(valid_queue_id("../../etc/passwd"));
    CHECK_FALSE(valid_queue_id("6740D3A20A1B23F9C0E1abcd"));
}

TEST_CASE("spool: a committed drop file is complete; an abandoned one leaves nothing")
{
    drop_group_init();
    TempDir t;
    std::string spool = t.file("spool");
    Envelope e;
    e.sender = "a@example.com";
    Recipient r;
    r.address = "root";
    e.rcpts = {r};
    auto header = format_drop_header(e);
    REQUIRE(header);

    SUBCASE("commit: named by its id only now, size patched, mode 0444")
    {
        auto f = DropFile::create(spool, new_queue_id());
        REQUIRE(f);
        // Unnamed until the commit (O_TMPFILE): nothing to see, or to
        // leave behind, while it is written (issue 10 part 5).
        CHECK(names_in(spool + "/incoming").empty());
        REQUIRE(f->write(*header));
        const std::string msg = "Subject: t\r\n\r\nhello\r\n";
        REQUIRE(f->write(msg));
        REQUIRE(f->commit(0, static_cast<long long>(msg.size())));
        CHECK(names_in(spool + "/incoming") == std::set<std::string>{f->id()});
        auto text = read_file(AT_FDCWD, spool + "/incoming/" + f->id(), 1 << 20);
        REQUIRE(text);
        auto back = parse_drop_header(*text, "x");
        REQUIRE(back);
        CHECK(back->size == 21);
        CHECK(text->size() == static_cast<size_t>(back->offset + back->size));
        struct stat st;
        REQUIRE(::stat((spool + "/incoming/" + f->id()).c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0444);
    }
    SUBCASE("no commit: the destructor removes the partial file")
    {
        {
            auto f = DropFile::create(spool, new_queue_id());
            REQUIRE(f);
            REQUIRE(f->write(*header));
        }
        CHECK(names_in(spool + "/incoming").empty());
    }
    SUBCASE("write error (file size limit): error names the path, nothing left")
    {
        // As sanitize_process() does: a write past the limit fails with
        // EFBIG instead of killing the process.
        ::signal(SIGXFSZ, SIG_IGN);
        struct rlimit old;
        ::getrlimit(RLIMIT_FSIZE, &old);
        struct rlimit small = {4096, old.rlim_max};
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        Status st;
        {
            auto f = DropFile::create(spool, new_queue_id());
            REQUIRE(f);
            st = f->write(std::string(100000, 'x'));
            if (st)
                st = f->commit(0, 100000);
        }
        ::setrlimit(RLIMIT_FSIZE, &old);
        REQUIRE_FALSE(st);
        CHECK(st.error().code == EX_TEMPFAIL);
        CHECK(st.error().text.find(spool + "/incoming/.") != std::string::npos);
        CHECK(names_in(spool + "/incoming").empty());
    }
}

TEST_CASE("spool: an unusable spool is a temporary failure naming the path")
{
    drop_group_init();
    TempDir t;
    t.write("file", "x");
    auto f = DropFile::create(t.file("file") + "/spool", new_queue_id());
    REQUIRE_FALSE(f);
    CHECK(f.error().code == EX_TEMPFAIL);
    CHECK(f.error().text.find(t.file("file") + "/spool/incoming") != std::string::npos);
}

TEST_CASE("io: replace_file replaces atomically and leaves no temporary")
{
    TempDir t;
    auto dir = open_dir(t.path());
    REQUIRE(dir);
    REQUIRE(replace_file(dir->get(), t.path(), "a.env", ".a.env.tmp", "one\n", 0600));
    REQUIRE(replace_file(dir->get(), t.path(), "a.env", ".a.env.tmp", "two\n", 0600));
    CHECK(*read_file(AT_FDCWD, t.file("a.env"), 100) == "two\n");
    CHECK(names_in(t.path()) == std::set<std::string>{"a.env"});
    // A stale temporary blocks the O_EXCL create: the error names it and
    // the old content stays.
    t.write(".a.env.tmp", "junk");
    auto st = replace_file(dir->get(), t.path(), "a.env", ".a.env.tmp", "three\n", 0600);
    CHECK_FALSE(st);
    CHECK(*read_file(AT_FDCWD, t.file("a.env"), 100) == "two\n");
}

TEST_CASE("spool: a set-gid front end run by an ordinary user commits into a 1730 drop "
          "directory it cannot list (DESIGN: drop directory)")
{
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root to set up the drop directory and switch identities");
        return;
    }
    struct passwd* nobody = ::getpwnam("nobody");
    struct group* mail = ::getgrnam("mail");
    struct group* nogroup = ::getgrnam("nogroup");
    REQUIRE(nobody);
    REQUIRE(mail);
    REQUIRE(nogroup);
    uid_t uid = nobody->pw_uid;
    gid_t drop = mail->gr_gid, rgid = nogroup->gr_gid;
    TempDir t;
    REQUIRE(::chmod(t.path().c_str(), 0755) == 0);
    std::string spool = t.file("spool"), incoming = spool + "/incoming";
    REQUIRE(::mkdir(spool.c_str(), 0755) == 0);
    REQUIRE(::mkdir(incoming.c_str(), 0700) == 0);
    REQUIRE(::chown(incoming.c_str(), 0, drop) == 0);
    REQUIRE(::chmod(incoming.c_str(), 01730) == 0);
    std::string id = new_queue_id();

    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // What the kernel does for a 2755 root:mail binary run by nobody:
        // real ids nobody/nogroup, effective and saved gid mail.
        if (::setgroups(0, nullptr) < 0 || ::setresgid(rgid, drop, drop) < 0 ||
            ::setresuid(uid, uid, uid) < 0)
            ::_exit(10);
        drop_group_init();
        if (::getegid() != rgid)
            ::_exit(11); // the group must be off outside the spool calls
        if (::opendir(incoming.c_str()) != nullptr)
            ::_exit(12); // the drop directory must not be listable
        auto f = DropFile::create(spool, id);
        if (!f) {
            std::fprintf(stderr, "%s\n", f.error().text.c_str());
            ::_exit(13);
        }
        Envelope e;
        e.sender = "nobody@example.com";
        Recipient r;
        r.address = "root";
        e.rcpts = {r};
        auto header = format_drop_header(e);
        const std::string msg = "Subject: t\r\n\r\nhi\r\n";
        if (!header || !f->write(*header) || !f->write(msg))
            ::_exit(14);
        Status st = f->commit(0, static_cast<long long>(msg.size()));
        if (!st) {
            std::fprintf(stderr, "%s\n", st.error().text.c_str());
            ::_exit(15);
        }
        ::_exit(::getegid() == rgid ? 0 : 16);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(names_in(incoming) == std::set<std::string>{id});
    struct stat st;
    REQUIRE(::stat((incoming + "/" + id).c_str(), &st) == 0);
    CHECK(st.st_uid == uid);
    CHECK(st.st_gid == drop);
}
