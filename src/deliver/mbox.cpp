// SPDX-License-Identifier: ISC
// WARNING: open_mbox() runs with root privileges in a set-user-ID program;
// see mbox.h before changing anything here.
#include "deliver/mbox.h"

#include "common/log.h"
#include "deliver/mailbox_dir.h"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utility>

namespace postern::deliver {
namespace {

Error refuse(const std::string& path, const std::string& why)
{
    return fail(EX_TEMPFAIL, "mailbox " + path + " refused: " + why);
}

const char* kind_of(mode_t m)
{
    if (S_ISLNK(m))
        return "it is a symbolic link";
    if (S_ISDIR(m))
        return "it is a directory";
    if (S_ISFIFO(m))
        return "it is a FIFO";
    return "it is not a regular file";
}

// The checks an existing mailbox must pass, on the open fd.
Status check_open_file(int fd, const struct stat& before, const std::string& path,
                       const OpenRules& rules)
{
    struct stat st;
    if (::fstat(fd, &st) < 0)
        return fail_errno(EX_TEMPFAIL, "fstat", path);
    if (!S_ISREG(st.st_mode))
        return refuse(path, kind_of(st.st_mode));
    if (st.st_dev != before.st_dev || st.st_ino != before.st_ino)
        return refuse(path, "it was replaced while being opened");
    if (st.st_nlink != 1)
        return refuse(path, "it has " + std::to_string(st.st_nlink) + " hard links");
    if (rules.owner && st.st_uid != *rules.owner)
        return refuse(path, "it is owned by uid " + std::to_string(st.st_uid) + ", not " +
                                std::to_string(*rules.owner));
    return {};
}

// F_OFD_SETLKW wait that a SIGALRM cuts short: the handler does nothing,
// it only makes the call return EINTR.
void on_alarm(int) {}

// Milliseconds on the monotonic clock: lock waits are measured with it, so
// that neither a clock step nor time()'s whole seconds shorten them.
long long now_ms()
{
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool set_alarm(long long ms)
{
    struct sigaction sa {};
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: the blocked fcntl must return
    if (::sigaction(SIGALRM, &sa, nullptr) < 0)
        return false;
    struct itimerval it {};
    if (ms < 1)
        ms = 1;
    it.it_value.tv_sec = static_cast<time_t>(ms / 1000);
    it.it_value.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
    return ::setitimer(ITIMER_REAL, &it, nullptr) == 0;
}

void clear_alarm()
{
    struct itimerval it {};
    ::setitimer(ITIMER_REAL, &it, nullptr);
}

// Waits for the whole-file write lock until the deadline. Returns false
// on timeout.
Result<bool> fcntl_lock(int fd, long long deadline_ms, const std::string& what)
{
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    for (;;) {
        if (::fcntl(fd, F_OFD_SETLK, &fl) == 0)
            return true;
        if (errno != EAGAIN && errno != EACCES && errno != EINTR)
            return fail_errno(EX_TEMPFAIL, "lock", what);
        long long left = deadline_ms - now_ms();
        if (left <= 0)
            return false;
        // The kernel queues waiters fairly; a bounded blocking wait beats
        // polling when ten deliveries race for one mailbox.
        if (!set_alarm(left))
            return fail_errno(EX_OSERR, "setitimer", "");
        int rc = ::fcntl(fd, F_OFD_SETLKW, &fl);
        int err = errno;
        clear_alarm();
        if (rc == 0)
            return true;
        if (err != EINTR)
            return fail_errnum(EX_TEMPFAIL, err, "lock", what);
    }
}

void fcntl_unlock(int fd)
{
    struct flock fl {};
    fl.l_type = F_UNLCK;
    fl.l_whence = SEEK_SET;
    ::fcntl(fd, F_OFD_SETLK, &fl);
}

void sleep_about_a_second()
{
    // 0.75 to 1.25 s, so that two waiters do not retry in lock step.
    long ms = 750 + static_cast<long>(::getpid() % 7) * 50 + (::time(nullptr) % 3) * 25;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

} // namespace

Result<UniqueFd> open_mbox(const std::string& path, const OpenRules& rules)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash + 1 == path.size())
        return fail(EX_CONFIG, "mailbox " + path + ": not a file path");
    std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    std::string name = path.substr(slash + 1);
    Result<UniqueFd> dir_fd = open_mailbox_dir(dir, rules.home, rules.make_dirs);
    if (!dir_fd)
        return dir_fd.error();
    UniqueFd dfd = std::move(*dir_fd);
    struct stat dst;
    if (::fstat(dfd.get(), &dst) < 0)
        return fail_errno(EX_TEMPFAIL, "fstat", dir);
    // Anyone could swap names in a world-writable directory without the
    // sticky bit; root must not create or open files there.
    if (::geteuid() == 0 && (dst.st_mode & S_IWOTH) && !(dst.st_mode & S_ISVTX))
        return fail(EX_TEMPFAIL,
                    "mailbox directory " + dir + " is world-writable without the sticky bit");

    for (int attempt = 0; attempt < 2; ++attempt) {
        struct stat before;
        if (::fstatat(dfd.get(), name.c_str(), &before, AT_SYMLINK_NOFOLLOW) == 0) {
            if (!S_ISREG(before.st_mode))
                return refuse(path, kind_of(before.st_mode));
            if (before.st_nlink != 1)
                return refuse(path, "it has " + std::to_string(before.st_nlink) + " hard links");
            UniqueFd fd(::openat(dfd.get(), name.c_str(),
                                 (rules.read_back ? O_RDWR : O_WRONLY) | O_APPEND | O_NOFOLLOW |
                                     O_NONBLOCK | O_CLOEXEC));
            if (!fd.valid()) {
                if (errno == ELOOP)
                    return refuse(path, "it is a symbolic link");
                if (errno == ENOENT)
                    continue; // removed meanwhile (a reader emptied it): create it
                return fail_errno(EX_TEMPFAIL, "open", path);
            }
            Status ok = check_open_file(fd.get(), before, path, rules);
            if (!ok)
                return ok.error();
            int fl = ::fcntl(fd.get(), F_GETFL);
            if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0)
                return fail_errno(EX_TEMPFAIL, "fcntl", path);
            return fd;
        }
        if (errno != ENOENT)
            return fail_errno(EX_TEMPFAIL, "stat", path);
        if (!rules.may_create)
            return fail(EX_TEMPFAIL,
                        "mailbox " + path + " does not exist and only root may create it");

        UniqueFd fd(::openat(dfd.get(), name.c_str(),
                             (rules.read_back ? O_RDWR : O_WRONLY) | O_APPEND | O_CREAT | O_EXCL |
                                 O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                             0600));
        if (!fd.valid()) {
            if (errno == EEXIST)
                continue; // created meanwhile: open it with the checks above
            return fail_errno(EX_TEMPFAIL, "create", path);
        }
        // Through the fd only: the name may already point elsewhere.
        if (rules.set_owner) {
            if (::fchown(fd.get(), rules.new_uid, rules.new_gid) < 0)
                return fail_errno(EX_TEMPFAIL, "fchown", path);
            if (::fchmod(fd.get(), rules.new_mode) < 0)
                return fail_errno(EX_TEMPFAIL, "fchmod", path);
        }
        int fl = ::fcntl(fd.get(), F_GETFL);
        if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0)
            return fail_errno(EX_TEMPFAIL, "fcntl", path);
        log_debug("created mailbox " + path);
        return fd;
    }
    return fail(EX_TEMPFAIL, "mailbox " + path + " keeps changing while being opened");
}

Result<MboxLock> MboxLock::acquire(int fd, const std::string& lockpath, long timeout,
                                   const std::string& what)
{
    MboxLock lk;
    long long deadline = now_ms() + (timeout > 0 ? timeout : 0) * 1000LL;
    bool warned = false;
    for (;;) {
        Result<bool> got = fcntl_lock(fd, deadline, what);
        if (!got)
            return got.error();
        if (*got) {
            lk.fd_ = fd;
            if (lockpath.empty())
                return lk;
            Result<LockAttempt> dot = lk.dotlock_.try_lock(lockpath);
            if (!dot)
                return dot.error();
            if (*dot == LockAttempt::Taken)
                return lk;
            if (*dot == LockAttempt::Unavailable) {
                // No dot lock can be made here, by us or by any reader
                // running as this user; waiting would defer for ever.
                log_warning(lk.dotlock_.why_unavailable() + "; delivering to " + what +
                            " under the fcntl lock alone");
                return lk;
            }
            // Debian Policy 11.6: when the second lock is busy, give the
            // first one back before waiting.
            fcntl_unlock(fd);
            lk.fd_ = -1;
        }
        if (now_ms() >= deadline)
            return fail(EX_TEMPFAIL, "mailbox " + what + " is locked (waited " +
                                         std::to_string(timeout) + " s)");
        if (!warned) {
            log_debug("mailbox " + what + " is locked; waiting");
            warned = true;
        }
        sleep_about_a_second();
    }
}

void MboxLock::note_start(long long offset)
{
    struct stat st;
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0)
        dotlock_.note_offset(offset, static_cast<unsigned long long>(st.st_ino));
}

void MboxLock::repair(const std::string& what)
{
    long long at = dotlock_.interrupted_at();
    struct stat st;
    if (at < 0 || fd_ < 0 || ::fstat(fd_, &st) < 0 || st.st_size <= at ||
        static_cast<unsigned long long>(st.st_ino) != dotlock_.interrupted_inode())
        return; // nothing noted, or the mailbox was replaced meanwhile
    // Only where our own message began: a From_ line at the start of the
    // file or after the blank line that ends the previous message. If a
    // reader rewrote the mailbox meanwhile, that will not be there.
    char buf[8] = {};
    off_t from = at >= 2 ? at - 2 : at;
    ssize_t n = ::pread(fd_, buf, 7, from);
    std::string_view seen(buf, n > 0 ? static_cast<size_t>(n) : 0);
    bool ok = at >= 2 ? seen.substr(0, 7) == "\n\nFrom " : seen.substr(0, 5) == "From ";
    if (!ok)
        return;
    // Our partial message holds no other From_ line (mboxrd quotes every
    // "From " in it); if one follows, a writer that ignores dot locks
    // appended a whole message after ours, and that must not be cut.
    char chunk[65536];
    std::string carry;
    for (off_t pos = at + 1; pos < st.st_size;) {
        ssize_t n = ::pread(fd_, chunk, sizeof chunk, pos);
        if (n <= 0)
            return;
        std::string hay = carry + std::string(chunk, static_cast<size_t>(n));
        if (hay.find("\nFrom ") != std::string::npos) {
            log_warning("mailbox " + what +
                        ": a killed delivery left a partial message at offset " +
                        std::to_string(at) + ", but other mail follows it; left as it is");
            return;
        }
        carry = hay.substr(hay.size() > 6 ? hay.size() - 6 : 0);
        pos += n;
    }
    if (::ftruncate(fd_, at) < 0 || ::fsync(fd_) < 0) {
        log_error("mailbox " + what +
                  ": cannot remove the partial message a killed delivery "
                  "left at offset " +
                  std::to_string(at));
        return;
    }
    log_warning("mailbox " + what +
                ": removed the partial message a killed delivery left at "
                "offset " +
                std::to_string(at));
}

MboxLock::MboxLock(MboxLock&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), dotlock_(std::move(o.dotlock_))
{
}

MboxLock::~MboxLock()
{
    // Reverse order: the dotlock goes first.
    dotlock_.release();
    if (fd_ >= 0)
        fcntl_unlock(fd_);
}

std::string mbox_separator(int fd, off_t end)
{
    if (end <= 0)
        return "";
    char tail[2] = {};
    off_t from = end >= 2 ? end - 2 : 0;
    ssize_t n = ::pread(fd, tail, static_cast<size_t>(end - from), from);
    if (n <= 0)
        return ""; // unreadable (a write-only --file target): as before
    bool last_nl = tail[n - 1] == '\n';
    if (!last_nl)
        return "\n\n";
    if (end == 1 || (n == 2 && tail[0] == '\n'))
        return "";
    return "\n";
}

Result<MboxAppend> MboxAppend::begin(int fd, const std::string& what)
{
    MboxAppend a;
    a.start_ = ::lseek(fd, 0, SEEK_END);
    if (a.start_ < 0)
        return fail_errno(EX_TEMPFAIL, "seek", what);
    a.fd_ = fd;
    a.what_ = what;
    return a;
}

MboxAppend::MboxAppend(MboxAppend&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), start_(o.start_), what_(std::move(o.what_)), done_(o.done_)
{
}

MboxAppend::~MboxAppend()
{
    if (fd_ >= 0 && !done_)
        rollback();
}

void MboxAppend::rollback()
{
    // The mailbox must not keep half a message: a reader would take the
    // next delivery for part of it.
    if (::ftruncate(fd_, start_) < 0 || ::fsync(fd_) < 0)
        log_error("mailbox " + what_ + " may end in a partial message: cannot truncate it to " +
                  std::to_string(start_) + " bytes");
    done_ = true;
}

Status MboxAppend::write(std::string_view data)
{
    while (!data.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            Error e = fail_errno(EX_TEMPFAIL, "write", what_);
            rollback();
            return e;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
}

Status MboxAppend::commit()
{
    if (done_)
        return fail(EX_TEMPFAIL, "mailbox " + what_ + ": write already failed");
    if (::fsync(fd_) < 0) {
        Error e = fail_errno(EX_TEMPFAIL, "fsync", what_);
        rollback();
        return e;
    }
    done_ = true;
    return {};
}

} // namespace postern::deliver
