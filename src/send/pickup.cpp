// SPDX-License-Identifier: ISC
// Pickup: reading and checking a drop file and expanding its recipients
// (docs/DESIGN.md, "Pickup (runner)"), the tmp sweep and the failed/ area.
#include "send/runner.h"

#include "common/address.h"
#include "common/io.h"
#include "common/log.h"
#include "common/spool.h"
#include "common/text.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace postern::send {
namespace {

constexpr time_t sweep_age = 36 * 3600; // qmail's limit for tmp/ leftovers
// A writer locks its incoming/.<id> right after creating it; a file older
// than this whose lock is free has no living writer.
constexpr time_t dead_writer_age = 60;

// True when incoming/<name> is a named drop file whose writer is gone:
// its lock is free (the kernel drops it with the last descriptor, however
// the writer died) and it is old enough that the writer cannot be between
// its create and its flock.
bool writer_is_gone(int dfd, const std::string& name, time_t now)
{
    UniqueFd fd(::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st;
    if (!fd.valid() || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (now - st.st_mtime <= dead_writer_age && now >= st.st_mtime)
        return false;
    return ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
}

} // namespace

void Runner::sweep()
{
    time_t now = ::time(nullptr);
    for (const std::string* dir : {&incoming_, &queue_}) {
        bool in = dir == &incoming_;
        int dfd = in ? incoming_fd_.get() : queue_fd_.get();
        DIR* d = ::opendir(dir->c_str());
        if (!d)
            continue;
        while (struct dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            bool leftover = in ? (n.size() > 1 && n[0] == '.' && n != "..")
                               : (n.size() > 4 && n.substr(n.size() - 4) == ".tmp");
            struct stat st;
            if (!leftover || ::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                !S_ISREG(st.st_mode))
                continue;
            // A front end writes an unnamed file and leaves nothing when it
            // dies; only where the spool cannot hold one does it write a
            // named .<id>, which it keeps locked (DESIGN.md, "Submission").
            bool dead = in ? writer_is_gone(dfd, n, now) : now - st.st_mtime > sweep_age;
            if (dead && ::unlinkat(dfd, n.c_str(), 0) == 0)
                log_info(std::string("removed ") + (in ? "a dead submitter's" : "stale") +
                         " partial file " + *dir + "/" + n);
        }
        ::closedir(d);
    }
}

void Runner::quarantine(const std::string& id, const std::string& why, bool queued)
{
    UniqueFd ffd(::open(failed_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    int src = queued ? queue_fd_.get() : incoming_fd_.get();
    std::string from = queued ? id + ".msg" : id;
    // Never deleted unseen: the file moves to failed/ where mailq lists it.
    if (!ffd.valid() || ::renameat(src, from.c_str(), ffd.get(), (id + ".msg").c_str()) < 0) {
        log_error(id + ": cannot move to " + failed_ + ": " + std::strerror(errno) +
                  " (left in place): " + why);
        return;
    }
    if (queued)
        ::renameat(queue_fd_.get(), (id + ".env").c_str(), ffd.get(), (id + ".env").c_str());
    // Why it is there, for mailq and --status: failed/ is what a person
    // must judge, and they need the reason without searching the logs.
    ::unlinkat(ffd.get(), (id + ".reason.tmp").c_str(), 0);
    Status saved = replace_file(ffd.get(), failed_, id + ".reason", id + ".reason.tmp",
                                one_line(why.substr(0, 1024)) + "\n", 0600);
    if (!saved)
        log_error(id + ": " + saved.error().text);
    (void)fsync_fd(ffd.get(), failed_);
    (void)fsync_fd(src, queued ? queue_ : incoming_);
    log_error(id + ": moved to " + failed_ + ": " + why);
}

std::optional<Envelope> Runner::load_drop(int fd, const struct stat& st, const std::string& id,
                                          const std::string& path, bool from_queue, bool& park)
{
    park = false;
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
        quarantine(id, "not a regular file with one link", from_queue);
        return std::nullopt;
    }
    auto head = read_drop_header(fd, path);
    if (!head) {
        quarantine(id, head.error().text, from_queue);
        return std::nullopt;
    }
    auto env = parse_drop_header(*head, path);
    if (!env) {
        quarantine(id, env.error().text, from_queue);
        return std::nullopt;
    }
    if (static_cast<long long>(st.st_size) != env->offset + env->size) {
        quarantine(id,
                   "file is " + std::to_string(st.st_size) + " octets, header says " +
                       std::to_string(env->offset + env->size) + " (cut short?)",
                   from_queue);
        return std::nullopt;
    }
    // The front end checked every address; a drop file is still input from
    // another user, so it is checked again before any of it reaches libcurl.
    Status ok;
    if (!env->sender.empty())
        ok = check_address(env->sender, "sender");
    for (size_t i = 0; ok && i < env->rcpts.size(); ++i)
        ok = check_address(env->rcpts[i].address, "recipient");
    if (ok && env->rcpts.empty())
        ok = fail(EX_DATAERR, "no recipients");
    if (!ok) {
        quarantine(id, ok.error().text, from_queue);
        return std::nullopt;
    }
    env->id = id;
    env->uid = st.st_uid; // the submitter is the file's owner, not what it says

    std::vector<Recipient> final;
    for (const auto& r : env->rcpts) {
        auto exp = expand_recipient(r.address, aliases_, cfg_);
        if (!exp && (exp.error().code == EX_CONFIG || is_temporary(exp.error()))) {
            // A broken aliases setup (an unreadable :include:, a command in
            // an untrusted file) is the admin's to fix, not the sender's:
            // the message waits where it is and every run says why.
            log_error(id + ": recipient " + r.address +
                      " not expanded, message kept: " + exp.error().text);
            park = true;
            return std::nullopt;
        }
        if (!exp) {
            Recipient b;
            b.state = RcptState::Bounced;
            b.kind = route_of(r.address, cfg_) == Route::Local ? RcptKind::Local : RcptKind::Relay;
            b.address = r.address;
            b.reply = "5.1.0 alias expansion failed: " + exp.error().text;
            final.push_back(b);
            continue;
        }
        for (auto& x : *exp) {
            if (x.address != r.address && x.orig.empty())
                x.orig = r.address;
            bool dup = false;
            for (const auto& f : final)
                dup = dup || (f.kind == x.kind && f.address == x.address);
            if (!dup)
                final.push_back(x);
        }
    }
    env->rcpts = std::move(final);
    env->attempts = 0;
    env->next = 0;
    log_info(id + ": from=<" + env->sender + ">, size=" + std::to_string(env->size) +
             ", nrcpt=" + std::to_string(env->rcpts.size()) + " (queue active)");
    return std::move(*env);
}

} // namespace postern::send
