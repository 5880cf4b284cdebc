// SPDX-License-Identifier: ISC
#include "deliver/maildir.h"

#include "common/config.h"
#include "common/io.h"
#include "deliver/mailbox_dir.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

namespace postern::deliver {

std::string maildir_name()
{
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    std::random_device rd;
    unsigned long long r = (static_cast<unsigned long long>(rd()) << 32) | rd();
    std::string host;
    for (char c : local_hostname()) {
        if (c == '/')
            host += "\\057";
        else if (c == ':')
            host += "\\072";
        else
            host += c;
    }
    if (host.empty())
        host = "localhost";
    char buf[96];
    std::snprintf(buf, sizeof buf, "%lld.M%06ldP%dR%016llx.", static_cast<long long>(tv.tv_sec),
                  static_cast<long>(tv.tv_usec), static_cast<int>(::getpid()), r);
    return buf + host;
}

Result<std::string> maildir_deliver(const std::string& dir,
                                    const std::function<Status(const Sink&)>& write_message,
                                    const std::optional<std::string>& home, bool may_create)
{
    auto slash = dir.rfind('/');
    if (slash == std::string::npos)
        return fail(EX_CONFIG, "maildir " + dir + ": not an absolute path");
    Result<UniqueFd> parent =
        open_mailbox_dir(slash == 0 ? "/" : dir.substr(0, slash), home, may_create);
    if (!parent)
        return parent.error();
    Result<UniqueFd> md = open_subdir(parent->get(), dir.substr(slash + 1), dir, may_create);
    if (!md)
        return md.error();
    Result<UniqueFd> tmpdir = open_subdir(md->get(), "tmp", dir + "/tmp", may_create);
    if (!tmpdir)
        return tmpdir.error();
    Result<UniqueFd> newdir = open_subdir(md->get(), "new", dir + "/new", may_create);
    if (!newdir)
        return newdir.error();
    Result<UniqueFd> curdir = open_subdir(md->get(), "cur", dir + "/cur", may_create);
    if (!curdir)
        return curdir.error();

    std::string name = maildir_name();
    std::string tmp = dir + "/tmp/" + name;
    std::string dst = dir + "/new/" + name;
    int tfd = tmpdir->get();
    int nfd = newdir->get();
    UniqueFd fd(
        ::openat(tfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid())
        return fail_errno(EX_TEMPFAIL, "create", tmp);
    // tmp/ never keeps a partial message: it is removed on every failure.
    struct Cleanup {
        int dirfd;
        const std::string& name;
        bool armed = true;
        ~Cleanup()
        {
            if (armed)
                ::unlinkat(dirfd, name.c_str(), 0);
        }
    } cleanup{tfd, name};

    Status st =
        write_message([&](std::string_view data) { return write_all(fd.get(), data, tmp); });
    if (!st)
        return st.error();
    st = fsync_fd(fd.get(), tmp);
    if (!st)
        return st.error();
    if (::close(fd.release()) < 0)
        return fail_errno(EX_TEMPFAIL, "close", tmp);
    if (::linkat(tfd, name.c_str(), nfd, name.c_str(), 0) < 0) {
        if (errno != EPERM && errno != ENOSYS && errno != EXDEV)
            return fail_errno(EX_TEMPFAIL, "link", dst);
        if (::renameat(tfd, name.c_str(), nfd, name.c_str()) < 0)
            return fail_errno(EX_TEMPFAIL, "rename", dst);
        cleanup.armed = false;
    }
    st = fsync_fd(nfd, dir + "/new");
    if (!st) {
        ::unlinkat(nfd, name.c_str(), 0);
        return st.error();
    }
    return dst;
}

} // namespace postern::deliver
