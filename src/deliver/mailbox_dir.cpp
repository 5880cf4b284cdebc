// SPDX-License-Identifier: ISC
#include "deliver/mailbox_dir.h"

#include "common/log.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace postern::deliver {
namespace {

std::string join(const std::string& dir, const std::string& name)
{
    return !dir.empty() && dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Opens each '/'-separated component of rest below cur, as open_subdir().
Result<UniqueFd> walk(UniqueFd cur, std::string path, const std::string& rest, bool may_create)
{
    size_t pos = 0;
    while (pos < rest.size()) {
        size_t slash = rest.find('/', pos);
        if (slash == std::string::npos)
            slash = rest.size();
        std::string name = rest.substr(pos, slash - pos);
        pos = slash + 1;
        if (name.empty())
            continue;
        path = join(path, name);
        Result<UniqueFd> next = open_subdir(cur.get(), name, path, may_create);
        if (!next)
            return next.error();
        cur = std::move(*next);
    }
    return cur;
}

} // namespace

Result<UniqueFd> open_subdir(int dirfd, const std::string& name, const std::string& path,
                             bool may_create)
{
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        return fail(EX_TEMPFAIL, "mailbox directory " + path + " refused: '" + name +
                                     "' is not a directory name");
    for (int attempt = 0; attempt < 2; ++attempt) {
        UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.valid())
            return fd;
        int err = errno;
        if (err == ELOOP || err == ENOTDIR) {
            struct stat st;
            bool link = ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                        S_ISLNK(st.st_mode);
            return fail(EX_TEMPFAIL,
                        "mailbox directory " + path + " refused: " +
                            (link ? "it is a symbolic link" : "it is not a directory"));
        }
        if (err != ENOENT || !may_create || attempt > 0)
            return fail_errnum(EX_TEMPFAIL, err, "open mailbox directory", path);
        // mkdirat() never follows a symbolic link at name: one planted
        // there gives EEXIST, and the O_NOFOLLOW open above refuses it.
        if (::mkdirat(dirfd, name.c_str(), 0700) < 0) {
            if (errno == EEXIST)
                continue;
            return fail_errno(EX_TEMPFAIL, "mkdir", path);
        }
        // The new entry must outlive a power failure, or a Maildir made
        // for the first message could vanish with it after exit 0.
        if (::fsync(dirfd) < 0)
            return fail_errno(EX_TEMPFAIL, "fsync the directory holding", path);
        log_info("created directory " + path);
    }
    return fail(EX_TEMPFAIL, "mailbox directory " + path + " keeps changing while being made");
}

Result<UniqueFd> open_mailbox_dir(const std::string& dir, const std::optional<std::string>& home,
                                  bool may_create)
{
    if (dir.empty() || dir[0] != '/')
        return fail(EX_CONFIG, "mailbox directory " + dir + ": not an absolute path");
    if (home) {
        std::string h = *home;
        while (h.size() > 1 && h.back() == '/')
            h.pop_back();
        if (h.empty() || h[0] != '/')
            return fail(EX_TEMPFAIL,
                        "mailbox directory " + dir + ": the recipient has no home directory");
        bool below = dir.compare(0, h.size(), h) == 0 &&
                     (dir.size() == h.size() || h == "/" || dir[h.size()] == '/');
        if (below) {
            // The home is the administrator's choice and may be reached
            // through links; it is never made here (a missing home is a
            // problem for a person, not for the mailer).
            UniqueFd fd(::open(h.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!fd.valid()) {
                if (errno == ENOENT)
                    return fail(EX_TEMPFAIL, "home directory " + h +
                                                 " does not exist (it is not created for mail)");
                return fail_errno(EX_TEMPFAIL, "open home directory", h);
            }
            return walk(std::move(fd), h, dir.substr(h.size()), may_create);
        }
    }
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.valid())
        return fd;
    if (errno != ENOENT || !may_create)
        return fail_errno(EX_TEMPFAIL, "open mailbox directory", dir);
    // The deepest ancestor that exists is the starting point ("/" always
    // does); everything below it is made without following links.
    std::string base = dir;
    for (;;) {
        while (base.size() > 1 && base.back() == '/')
            base.pop_back();
        size_t slash = base.rfind('/');
        base = slash == 0 ? "/" : base.substr(0, slash);
        fd.reset(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (fd.valid())
            break;
        if (errno != ENOENT || base == "/")
            return fail_errno(EX_TEMPFAIL, "open mailbox directory", base);
    }
    return walk(std::move(fd), base, dir.substr(base.size()), may_create);
}

} // namespace postern::deliver
