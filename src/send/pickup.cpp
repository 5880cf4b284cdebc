// SPDX-License-Identifier: ISC
// Pickup: reading and checking a drop file and expanding its recipients
// (docs/DESIGN.md, "Pickup (runner)"), the tmp sweep and the failed/ area.
#include "send/runner.h"

#include "common/address.h"
#include "common/io.h"
#include "common/log.h"
#include "common/spool.h"

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

} // namespace

void Runner::sweep()
{
    time_t now = ::time(nullptr);
    for (const std::string* dir : {&incoming_, &queue_}) {
        int dfd = dir == &incoming_ ? incoming_fd_.get() : queue_fd_.get();
        DIR* d = ::opendir(dir->c_str());
        if (!d)
            continue;
        while (struct dirent* e = ::readdir(d)) {
            std::string n = e->d_name;
            bool leftover = dir == &incoming_ ? (n.size() > 1 && n[0] == '.' && n != "..")
                                              : (n.size() > 4 && n.substr(n.size() - 4) == ".tmp");
            struct stat st;
            if (!leftover || ::fstatat(dfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
                continue;
            if (S_ISREG(st.st_mode) && now - st.st_mtime > sweep_age) {
                if (::unlinkat(dfd, n.c_str(), 0) == 0)
                    log_info("removed stale partial file " + *dir + "/" + n);
            }
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
