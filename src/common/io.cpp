// SPDX-License-Identifier: ISC
#include "common/io.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace postern {

Status write_all(int fd, std::string_view data, std::string_view what)
{
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno(EX_TEMPFAIL, "write", what);
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Result<size_t> read_some(int fd, char* buf, size_t n, std::string_view what)
{
    for (;;) {
        ssize_t r = ::read(fd, buf, n);
        if (r >= 0)
            return static_cast<size_t>(r);
        if (errno != EINTR)
            return fail_errno(EX_IOERR, "read", what);
    }
}

Result<std::string> read_file(int dirfd, const std::string& path, size_t limit, bool nofollow)
{
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0);
    UniqueFd fd(::openat(dirfd, path.c_str(), flags));
    if (!fd.valid())
        return fail_errno(errno == ENOENT ? EX_NOINPUT : EX_IOERR, "open", path);
    struct stat st;
    if (::fstat(fd.get(), &st) < 0)
        return fail_errno(EX_IOERR, "stat", path);
    if (!S_ISREG(st.st_mode))
        return fail(EX_DATAERR, path + ": not a regular file");
    std::string out;
    char buf[16384];
    for (;;) {
        auto n = read_some(fd.get(), buf, sizeof buf, path);
        if (!n)
            return n.error();
        if (*n == 0)
            break;
        if (out.size() + *n > limit)
            return fail(EX_DATAERR, path + ": file too large");
        out.append(buf, *n);
    }
    return out;
}

Status fsync_fd(int fd, std::string_view what)
{
    if (::fsync(fd) < 0)
        return fail_errno(EX_TEMPFAIL, "fsync", what);
    return {};
}

Result<UniqueFd> open_dir(const std::string& path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid())
        return fail_errno(EX_TEMPFAIL, "open", path);
    return fd;
}

Status fsync_dir(const std::string& dir)
{
    auto fd = open_dir(dir);
    if (!fd)
        return fd.error();
    return fsync_fd(fd->get(), dir);
}

Status replace_file(int dirfd, const std::string& dirpath, const std::string& name,
                    const std::string& tmpname, std::string_view data, mode_t mode)
{
    std::string tmppath = dirpath + "/" + tmpname;
    UniqueFd fd(::openat(dirfd, tmpname.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd.valid())
        return fail_errno(EX_TEMPFAIL, "create", tmppath);
    Status st = write_all(fd.get(), data, tmppath);
    if (st)
        st = fsync_fd(fd.get(), tmppath);
    if (st && ::close(fd.release()) < 0)
        st = fail_errno(EX_TEMPFAIL, "close", tmppath);
    if (st && ::renameat(dirfd, tmpname.c_str(), dirfd, name.c_str()) < 0)
        st = fail_errno(EX_TEMPFAIL, "rename " + tmppath + " ->", dirpath + "/" + name);
    if (!st) {
        ::unlinkat(dirfd, tmpname.c_str(), 0);
        return st;
    }
    return fsync_fd(dirfd, dirpath);
}

} // namespace postern
