// SPDX-License-Identifier: ISC
#include "deliver/maildir.h"

#include "common/config.h"
#include "common/io.h"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

namespace postern::deliver {
namespace {

Status make_dir(const std::string& path)
{
    if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (::lstat(path.c_str(), &st) < 0)
            return fail_errno(EX_TEMPFAIL, "stat", path);
        if (!S_ISDIR(st.st_mode))
            return fail(EX_TEMPFAIL, "maildir " + path + " is not a directory");
        return {};
    }
    return fail_errno(EX_TEMPFAIL, "mkdir", path);
}

} // namespace

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
                                    const std::function<Status(const Sink&)>& write_message)
{
    for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
        Status st = make_dir(dir + sub);
        if (!st)
            return st.error();
    }
    std::string name = maildir_name();
    std::string tmp = dir + "/tmp/" + name;
    std::string dst = dir + "/new/" + name;
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid())
        return fail_errno(EX_TEMPFAIL, "create", tmp);
    // tmp/ never keeps a partial message: it is removed on every failure.
    struct Cleanup {
        const std::string& path;
        bool armed = true;
        ~Cleanup()
        {
            if (armed)
                ::unlink(path.c_str());
        }
    } cleanup{tmp};

    Status st =
        write_message([&](std::string_view data) { return write_all(fd.get(), data, tmp); });
    if (!st)
        return st.error();
    st = fsync_fd(fd.get(), tmp);
    if (!st)
        return st.error();
    if (::close(fd.release()) < 0)
        return fail_errno(EX_TEMPFAIL, "close", tmp);
    if (::link(tmp.c_str(), dst.c_str()) < 0) {
        if (errno != EPERM && errno != ENOSYS && errno != EXDEV)
            return fail_errno(EX_TEMPFAIL, "link", dst);
        if (::rename(tmp.c_str(), dst.c_str()) < 0)
            return fail_errno(EX_TEMPFAIL, "rename", dst);
        cleanup.armed = false;
    }
    st = fsync_dir(dir + "/new");
    if (!st) {
        ::unlink(dst.c_str());
        return st.error();
    }
    return dst;
}

} // namespace postern::deliver
