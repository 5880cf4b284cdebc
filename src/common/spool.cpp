// SPDX-License-Identifier: ISC
#include "common/spool.h"

#include "common/io.h"
#include "common/log.h"
#include "common/privilege.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

namespace postern {
namespace {

// The drop file in progress, for the signal handler: a killed front end
// must not leave a partial file behind if it can help it (postdrop does
// the same). Whatever a SIGKILL leaves, the runner sweeps.
int g_sig_dirfd = -1;
char g_sig_name[64];
gid_t g_sig_gid = 0;

extern "C" void on_signal(int sig)
{
    // The drop group is off outside the spool calls; the unlink needs it.
    if (g_sig_dirfd >= 0 && ::setegid(g_sig_gid) == 0)
        ::unlinkat(g_sig_dirfd, g_sig_name, 0);
    ::_exit(128 + sig);
}

// The drop directory is 1730: the drop group may create and rename in it
// but not read it, so it is opened O_PATH, which the *at() calls accept.
int open_drop_dir(const std::string& dir)
{
    return ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

void hex(std::string& out, unsigned long long v, int digits)
{
    static const char* d = "0123456789ABCDEF";
    for (int i = digits - 1; i >= 0; --i)
        out += d[(v >> (4 * i)) & 0xf];
}

} // namespace

std::string new_queue_id()
{
    struct timeval tv;
    ::gettimeofday(&tv, nullptr);
    unsigned long long r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
        r = static_cast<unsigned long long>(::getpid()) * 2654435761ULL ^
            static_cast<unsigned long long>(tv.tv_usec);
    std::string id;
    hex(id, static_cast<unsigned long long>(tv.tv_sec), 8);
    hex(id, static_cast<unsigned long long>(tv.tv_usec), 5);
    hex(id, r, 11);
    return id;
}

bool valid_queue_id(std::string_view id)
{
    if (id.size() != 24)
        return false;
    return std::all_of(id.begin(), id.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

std::string incoming_dir(const std::string& spool) { return spool + "/incoming"; }
std::string queue_dir(const std::string& spool) { return spool + "/queue"; }
std::string failed_dir(const std::string& spool) { return spool + "/failed"; }

Result<DropFile> DropFile::create(const std::string& spool, const std::string& id)
{
    if (!valid_queue_id(id))
        panic("malformed queue id " + id);
    DropFile f;
    f.dir_ = incoming_dir(spool);
    f.id_ = id;
    std::string tmp = "." + id;
    DropGroupScope group;
    f.dirfd_ = UniqueFd(open_drop_dir(f.dir_));
    if (!f.dirfd_.valid()) {
        // Not installed yet and not set-id (a test or a container run by
        // root): create what is missing, as the install would have.
        if (errno == ENOENT && !running_setid()) {
            ::mkdir(spool.c_str(), 0755);
            if (::mkdir(f.dir_.c_str(), 01730) == 0 || errno == EEXIST)
                f.dirfd_ = UniqueFd(open_drop_dir(f.dir_));
        }
        if (!f.dirfd_.valid())
            return fail_errno(EX_TEMPFAIL, "open spool directory", f.dir_);
    }
    // An unnamed file (O_TMPFILE), given its name only at the commit:
    // a writer killed before it, even by SIGKILL, leaves nothing behind,
    // and nobody can see a message half written. Linking it in needs
    // /proc (linkat through /proc/self/fd; AT_EMPTY_PATH would need
    // CAP_DAC_READ_SEARCH). Where the file system or /proc cannot do this,
    // a named .<id> is written instead, locked for as long as its writer
    // lives, so the runner can tell a dead writer's file (sweep()).
    int why = EOPNOTSUPP; // no /proc: the named way
    if (::access("/proc/self/fd", X_OK) == 0) {
        f.fd_ = UniqueFd(::openat(f.dirfd_.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
        why = errno;
    }
    if (!f.fd_.valid() && (why == ENOSPC || why == EDQUOT || why == EROFS || why == EACCES)) {
        errno = why; // a named file would fail the same way
        return fail_errno(EX_TEMPFAIL, "create a drop file in", f.dir_);
    }
    if (!f.fd_.valid()) {
        f.named_ = true;
        std::snprintf(g_sig_name, sizeof g_sig_name, "%s", tmp.c_str());
        g_sig_dirfd = f.dirfd_.get();
        g_sig_gid = drop_group_gid();
        for (int s : {SIGHUP, SIGINT, SIGQUIT, SIGTERM})
            ::signal(s, on_signal);
        f.fd_ = UniqueFd(::openat(f.dirfd_.get(), tmp.c_str(),
                                  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (f.fd_.valid() && ::flock(f.fd_.get(), LOCK_EX | LOCK_NB) < 0) {
            ::unlinkat(f.dirfd_.get(), tmp.c_str(), 0);
            g_sig_dirfd = -1;
            return fail_errno(EX_TEMPFAIL, "lock", f.dir_ + "/" + tmp);
        }
    }
    if (!f.fd_.valid()) {
        g_sig_dirfd = -1;
        return fail_errno(EX_TEMPFAIL, "create", f.dir_ + "/" + tmp);
    }
    // Readable by the runner whatever its group: privacy comes from the
    // directory, which nobody but the runner can search (Postfix's maildrop
    // files are 0444 for the same reason).
    if (::fchmod(f.fd_.get(), 0444) < 0) {
        if (f.named_)
            ::unlinkat(f.dirfd_.get(), tmp.c_str(), 0);
        g_sig_dirfd = -1;
        return fail_errno(EX_TEMPFAIL, "chmod", f.dir_ + "/" + tmp);
    }
    f.buf_.reserve(1 << 16);
    return f;
}

DropFile::DropFile(DropFile&& o) noexcept
    : dir_(std::move(o.dir_)), id_(std::move(o.id_)), dirfd_(std::move(o.dirfd_)),
      fd_(std::move(o.fd_)), buf_(std::move(o.buf_)), written_(o.written_), named_(o.named_),
      committed_(o.committed_)
{
    o.committed_ = true;
}

DropFile::~DropFile()
{
    if (committed_ || !fd_.valid() || !named_)
        return; // an unnamed file goes with its descriptor
    DropGroupScope group;
    ::unlinkat(dirfd_.get(), ("." + id_).c_str(), 0);
    g_sig_dirfd = -1;
}

Status DropFile::flush()
{
    if (buf_.empty())
        return {};
    Status st = write_all(fd_.get(), buf_, dir_ + "/." + id_);
    written_ += static_cast<long long>(buf_.size());
    buf_.clear();
    return st;
}

Status DropFile::write(std::string_view data)
{
    if (buf_.size() + data.size() > (1 << 16)) {
        Status st = flush();
        if (!st)
            return st;
        if (data.size() >= (1 << 16)) {
            st = write_all(fd_.get(), data, dir_ + "/." + id_);
            written_ += static_cast<long long>(data.size());
            return st;
        }
    }
    buf_.append(data);
    return {};
}

Status DropFile::commit(long long header_offset, long long message_size, const QueueConfig* reserve)
{
    std::string path = dir_ + "/." + id_;
    Status st = flush();
    if (!st)
        return st;
    // The queue runner must always be able to record delivery state and
    // write reports, or accepted mail could be stranded when the spool
    // fills: a submission may not eat into that reserve. The message is
    // written by now, so the free space counts it.
    struct statvfs vfs;
    if (reserve && ::fstatvfs(fd_.get(), &vfs) == 0) {
        long long fs = static_cast<long long>(vfs.f_blocks) * static_cast<long long>(vfs.f_frsize);
        long long avail =
            static_cast<long long>(vfs.f_bavail) * static_cast<long long>(vfs.f_frsize);
        long long need = min_free_for(*reserve, fs);
        if (avail < need)
            return fail(EX_TEMPFAIL, "spool " + dir_ + " is full: " + std::to_string(avail / 1024) +
                                         " KiB free, below the " + std::to_string(need / 1024) +
                                         " KiB kept for the queue runner ([queue] min_free)");
    }
    char digits[32];
    std::snprintf(digits, sizeof digits, "%0*lld", static_cast<int>(drop_size_width), message_size);
    off_t at = static_cast<off_t>(header_offset + static_cast<long long>(drop_size_offset));
    if (::pwrite(fd_.get(), digits, drop_size_width, at) != static_cast<ssize_t>(drop_size_width))
        return fail_errno(EX_TEMPFAIL, "write", path);
    st = fsync_fd(fd_.get(), path);
    if (!st)
        return st;
    DropGroupScope group;
    if (named_) {
        if (::renameat(dirfd_.get(), ("." + id_).c_str(), dirfd_.get(), id_.c_str()) < 0)
            return fail_errno(EX_TEMPFAIL, "rename " + path + " ->", dir_ + "/" + id_);
        // Committed: a runner must not take the message for one still held.
        (void)::flock(fd_.get(), LOCK_UN);
    } else {
        char self[64];
        std::snprintf(self, sizeof self, "/proc/self/fd/%d", fd_.get());
        if (::linkat(AT_FDCWD, self, dirfd_.get(), id_.c_str(), AT_SYMLINK_FOLLOW) < 0)
            return fail_errno(EX_TEMPFAIL, "link", dir_ + "/" + id_);
    }
    committed_ = true;
    g_sig_dirfd = -1;
    // The rename is durable only once the directory is on disk too; until
    // then a power loss could undo it, so exit 0 waits for this. Whoever
    // may read the directory (root, the runner's user, a test) syncs it.
    // The drop group may not open it for reading: then the renamed file
    // is synced again, which on Linux's journalling file systems (ext4,
    // XFS, btrfs) commits the transaction that holds the rename.
    UniqueFd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.valid())
        return fsync_fd(dir.get(), dir_);
    if (errno != EACCES)
        return fail_errno(EX_TEMPFAIL, "open", dir_);
    return fsync_fd(fd_.get(), dir_ + "/" + id_);
}

Result<std::vector<std::string>> list_dir(const std::string& dir)
{
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT)
            return names;
        if (errno == EACCES)
            return fail(EX_NOPERM, "cannot read the mail queue " + dir +
                                       ": permission denied (run mailq as root or postern)");
        return fail_errno(EX_TEMPFAIL, "open", dir);
    }
    while (struct dirent* e = ::readdir(d))
        names.emplace_back(e->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

Result<std::string> read_drop_header(int fd, const std::string& what)
{
    constexpr size_t max_header = 4u << 20;
    std::string out;
    char buf[8192];
    off_t at = 0;
    while (out.size() < max_header) {
        ssize_t n = ::pread(fd, buf, sizeof buf, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno(EX_TEMPFAIL, "read", what);
        if (n == 0)
            break;
        size_t old = out.size();
        out.append(buf, static_cast<size_t>(n));
        at += n;
        // Only the header region is wanted: stop at its empty line.
        size_t end = out.find("\n\n", old > 0 ? old - 1 : 0);
        if (end != std::string::npos) {
            out.resize(end + 2);
            return out;
        }
    }
    return fail(EX_DATAERR, what + ": drop header not terminated");
}

Result<std::vector<QueueEntry>> list_queue(const std::string& spool)
{
    std::vector<QueueEntry> out;
    struct Area {
        const char* name;
        std::string dir;
    };
    for (const Area& a : {Area{"incoming", incoming_dir(spool)}, Area{"queue", queue_dir(spool)},
                          Area{"failed", failed_dir(spool)}}) {
        auto names = list_dir(a.dir);
        if (!names)
            return names.error();
        bool incoming = std::string_view(a.name) == "incoming";
        auto has = [&](const std::string& n) {
            return std::binary_search(names->begin(), names->end(), n);
        };
        for (const auto& n : *names) {
            std::string id = incoming ? n : n.substr(0, n.find('.'));
            if (!valid_queue_id(id))
                continue;
            // One entry per id: its envelope when it has one, else the
            // drop header at the start of the message file (a message
            // being picked up or in its first attempt).
            bool use_env = !incoming && n == id + ".env";
            bool use_msg = incoming ? n == id : (n == id + ".msg" && !has(id + ".env"));
            if (!use_env && !use_msg)
                continue;
            QueueEntry q;
            q.area = a.name;
            if (use_msg && !incoming && q.area == "queue")
                q.area = "active";
            std::string path = a.dir + "/" + n;
            Result<std::string> text = std::string();
            if (use_env) {
                text = read_file(AT_FDCWD, path, 16u << 20, true);
            } else {
                UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
                text = fd.valid() ? read_drop_header(fd.get(), path)
                       : errno == ENOENT
                           ? Result<std::string>(fail(EX_NOINPUT, path + ": gone"))
                           : Result<std::string>(fail_errno(EX_TEMPFAIL, "open", path));
            }
            if (text) {
                auto env = use_env ? parse_envelope(*text, path) : parse_drop_header(*text, path);
                if (env)
                    q.env = std::move(*env);
                else
                    q.env.error = env.error().text;
            } else if (text.error().code == EX_NOINPUT) {
                continue; // finished while we looked
            } else {
                q.env.error = text.error().text;
            }
            q.env.id = id;
            if (q.area == "failed" && has(id + ".reason")) {
                auto why = read_file(AT_FDCWD, a.dir + "/" + id + ".reason", 4096, true);
                if (why) {
                    q.reason = *why;
                    while (!q.reason.empty() && q.reason.back() == '\n')
                        q.reason.pop_back();
                }
            }
            out.push_back(std::move(q));
        }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const QueueEntry& a, const QueueEntry& b) { return a.env.id < b.env.id; });
    return out;
}

} // namespace postern
