// SPDX-License-Identifier: ISC
#include "deliver/dotlock.h"

#include "common/config.h"
#include "common/log.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utility>

namespace postern::deliver {
namespace {

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// A name no other process on any host uses at the same moment.
std::string temp_name(const std::string& lockpath)
{
    char buf[128];
    std::snprintf(buf, sizeof buf, "/.lk%05d%lx", static_cast<int>(::getpid()),
                  static_cast<unsigned long>(::time(nullptr)));
    std::string host = local_hostname();
    for (char& c : host)
        if (c == '/')
            c = '_';
    return dir_of(lockpath) + buf + host.substr(0, 32);
}

// The pid written in the lock, or 0 when there is none to read. The
// file is opened without following a symlink and without blocking on a
// FIFO someone planted there.
// The pid and the noted offset and mailbox inode (-1, 0 when none)
// written in the lock.
pid_t read_lock(const std::string& path, long long* offset, unsigned long long* inode)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    char buf[32] = {};
    ssize_t n = 0;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0)
        return 0;
    char* end = nullptr;
    long pid = std::strtol(buf, &end, 10);
    if (offset) {
        *offset = -1;
        *inode = 0;
        char* end2 = nullptr;
        char* end3 = nullptr;
        long long off = end && *end == ' ' ? std::strtoll(end + 1, &end2, 10) : -1;
        unsigned long long ino =
            end2 && end2 != end + 1 && *end2 == ' ' ? std::strtoull(end2 + 1, &end3, 10) : 0;
        if (off >= 0 && ino > 0 && end3 != end2 + 1 && (*end3 == '\n' || *end3 == '\0')) {
            *offset = off;
            *inode = ino;
        }
    }
    return pid > 0 && pid < (1L << 22) ? static_cast<pid_t>(pid) : 0;
}

pid_t read_pid(const std::string& path) { return read_lock(path, nullptr, nullptr); }

} // namespace

bool dotlock_is_stale(const std::string& path, std::time_t now)
{
    struct stat st;
    if (::lstat(path.c_str(), &st) < 0)
        return false;
    if (now - st.st_mtime > Dotlock::stale_after)
        return true;
    if (S_ISDIR(st.st_mode))
        return false;
    pid_t pid = read_pid(path);
    // kill(pid, 0) fails with EPERM for a live process of another user.
    return pid > 0 && ::kill(pid, 0) < 0 && errno == ESRCH;
}

Dotlock::Dotlock(Dotlock&& o) noexcept
    : path_(std::exchange(o.path_, {})), dev_(o.dev_), ino_(o.ino_), touched_(o.touched_),
      interrupted_at_(o.interrupted_at_), interrupted_inode_(o.interrupted_inode_),
      why_unavailable_(std::move(o.why_unavailable_))
{
}

Dotlock& Dotlock::operator=(Dotlock&& o) noexcept
{
    if (this != &o) {
        release();
        path_ = std::exchange(o.path_, {});
        dev_ = o.dev_;
        ino_ = o.ino_;
        touched_ = o.touched_;
        interrupted_at_ = o.interrupted_at_;
        interrupted_inode_ = o.interrupted_inode_;
        why_unavailable_ = std::move(o.why_unavailable_);
    }
    return *this;
}

Result<LockAttempt> Dotlock::try_lock(const std::string& lockpath)
{
    if (held())
        return LockAttempt::Taken;
    std::string tmp = temp_name(lockpath);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        // A leftover of a crashed process with our pid: it is ours.
        ::unlink(tmp.c_str());
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    if (fd < 0) {
        int err = errno;
        if (err != EACCES && err != EPERM && err != EROFS)
            return fail_errnum(EX_TEMPFAIL, err, "dotlock", tmp);
        // We may not create files in this directory (a 0755 root spool,
        // an immutable or read-only one), so no dot lock of ours can ever
        // stand there. A lock made by someone who can still counts: a
        // live one is waited for, and a symlink or directory is never
        // followed (dotlock_is_stale() looks with lstat and O_NOFOLLOW).
        struct stat st;
        bool present = ::lstat(lockpath.c_str(), &st) == 0;
        if (present && !dotlock_is_stale(lockpath, ::time(nullptr)))
            return LockAttempt::Busy;
        why_unavailable_ = fail_errnum(EX_TEMPFAIL, err, "dotlock", tmp).text;
        if (present)
            why_unavailable_ += "; the stale lock " + lockpath + " cannot be removed";
        return LockAttempt::Unavailable;
    }
    char pid[32];
    int len = std::snprintf(pid, sizeof pid, "%d\n", static_cast<int>(::getpid()));
    bool wrote = ::write(fd, pid, static_cast<size_t>(len)) == len;
    struct stat mine;
    bool statted = ::fstat(fd, &mine) == 0;
    ::close(fd);
    if (!wrote || !statted) {
        ::unlink(tmp.c_str());
        return fail(EX_TEMPFAIL, "dotlock " + tmp + ": cannot write the lock file");
    }

    for (int attempt = 0; attempt < 2; ++attempt) {
        // link(2)'s result is not trusted (NFS may report a failure for a
        // link that was made); the inode comparison decides.
        (void)::link(tmp.c_str(), lockpath.c_str());
        struct stat st;
        if (::lstat(lockpath.c_str(), &st) == 0 && st.st_dev == mine.st_dev &&
            st.st_ino == mine.st_ino) {
            ::unlink(tmp.c_str());
            path_ = lockpath;
            dev_ = st.st_dev;
            ino_ = st.st_ino;
            touched_ = ::time(nullptr);
            return LockAttempt::Taken;
        }
        if (attempt > 0 || !dotlock_is_stale(lockpath, ::time(nullptr)))
            break;
        // A holder that died while appending noted where its message
        // starts; only a dead holder's note counts (a live one that merely
        // forgot to touch its lock may still be writing).
        long long noted = -1;
        unsigned long long inode = 0;
        pid_t holder = read_lock(lockpath, &noted, &inode);
        if (holder > 0 && ::kill(holder, 0) < 0 && errno == ESRCH) {
            interrupted_at_ = noted;
            interrupted_inode_ = inode;
        }
        log_warning("removing stale lock " + lockpath);
        // unlink() removes a symlink itself, never its target.
        ::unlink(lockpath.c_str());
    }
    ::unlink(tmp.c_str());
    return LockAttempt::Busy;
}

void Dotlock::touch()
{
    std::time_t now = ::time(nullptr);
    if (!held() || now - touched_ < 60)
        return;
    touched_ = now;
    ::utimensat(AT_FDCWD, path_.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);
}

void Dotlock::note_offset(long long offset, unsigned long long inode)
{
    if (!held())
        return;
    int fd = ::open(path_.c_str(), O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    char buf[64];
    int len = std::snprintf(buf, sizeof buf, "%d %lld %llu\n", static_cast<int>(::getpid()), offset,
                            inode);
    if (::fstat(fd, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_ &&
        ::pwrite(fd, buf, static_cast<size_t>(len), 0) == len)
        (void)::ftruncate(fd, len);
    ::close(fd);
}

void Dotlock::release()
{
    if (!held())
        return;
    // Only our own lock is removed: one broken as stale and retaken by
    // someone else has another inode.
    struct stat st;
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
        ::unlink(path_.c_str());
    path_.clear();
}

} // namespace postern::deliver
