// SPDX-License-Identifier: ISC
#include "send/runner.h"

#include "common/address.h"
#include "common/io.h"
#include "common/log.h"
#include "common/run_stamp.h"
#include "common/spool.h"
#include "send/bounce.h"
#include "send/local_agent.h"
#include "send/secret.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace postern::send {
namespace {

Status make_dir(const std::string& path, mode_t mode)
{
    if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
        return fail_errno(EX_TEMPFAIL, "create", path);
    return {};
}

bool is_open(const Recipient& r)
{
    return r.state == RcptState::Pending || r.state == RcptState::Maybe;
}

bool is_postmaster(const Recipient& r)
{
    auto pm = [](const std::string& a) { return to_lower(local_part(a)) == "postmaster"; };
    return pm(r.address) || (!r.orig.empty() && pm(r.orig));
}

} // namespace

Result<std::unique_ptr<Runner>> Runner::open(const Config& cfg, const Options& opt)
{
    std::unique_ptr<Runner> r(new Runner());
    r->cfg_ = cfg;
    r->opt_ = opt;
    const std::string& spool = cfg.queue.dir;
    r->incoming_ = incoming_dir(spool);
    r->queue_ = queue_dir(spool);
    r->failed_ = failed_dir(spool);
    struct stat st;
    if (::stat(spool.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
        return fail(EX_TEMPFAIL, "spool directory " + spool + " cannot be used: " +
                                     (errno ? std::strerror(errno) : "not a directory") +
                                     " (the install creates it)");
    // The drop directory is normally made by the install (1730
    // postern:postdrop); a runner that finds it missing makes it so a
    // container or test spool works without one.
    Status s = make_dir(r->incoming_, 01730);
    if (s)
        s = make_dir(r->queue_, 0700);
    if (s)
        s = make_dir(r->failed_, 0700);
    if (!s)
        return s.error();
    auto in = open_dir(r->incoming_);
    if (!in)
        return in.error();
    auto q = open_dir(r->queue_);
    if (!q)
        return q.error();
    r->incoming_fd_ = std::move(*in);
    r->queue_fd_ = std::move(*q);
    auto al = Aliases::load(cfg.local.aliases);
    if (!al)
        return al.error();
    r->aliases_ = std::move(*al);
    return r;
}

int Runner::run(RunnerLock& busy)
{
    touch_run_stamp(queue_fd_.get()); // mailq and --status: "a runner runs"
    sweep();
    if (opt_.mode == Options::Mode::Id) {
        // Started right after a submission: the message is in incoming/
        // unless another runner got to it first.
        process(opt_.id, true, true);
    } else {
        bool force = opt_.mode == Options::Mode::Flush;
        auto in = list_dir(incoming_);
        if (!in) {
            log_error(in.error().text);
            status_ = EX_TEMPFAIL;
            return drain(busy);
        }
        // What arrives meanwhile waits for the end of this listing: the
        // submissions before it came first.
        for (const auto& n : *in) {
            if (!valid_queue_id(n))
                continue;
            make_room();
            process(n, true, true);
        }
        auto q = list_dir(queue_);
        if (!q) {
            log_error(q.error().text);
            status_ = EX_TEMPFAIL;
            return drain(busy);
        }
        for (const auto& n : *q) {
            if (n.size() < 28 || !valid_queue_id(n.substr(0, 24)))
                continue;
            std::string id = n.substr(0, 24), ext = n.substr(24);
            if (ext == ".msg") {
                if (seen_.count(id))
                    continue;
                make_room();
                // Front ends start no runner while we hold the lock: what
                // they submit goes between the queued messages, not after
                // the whole run.
                if (busy.held()) {
                    pick_up_new();
                    make_room();
                }
                process(id, false, force);
            } else if ((ext == ".env" || ext == ".env.tmp") &&
                       !std::binary_search(q->begin(), q->end(), id + ".msg")) {
                remove_orphan_envelope(id, n);
            }
        }
    }
    finish_all();
    sync_queue();
    return drain(busy);
}

void Runner::send_bounces()
{
    // Reports written during the run go out in the same run.
    while (!bounces_.empty()) {
        std::string id = bounces_.front();
        bounces_.pop_front();
        make_room();
        process(id, true, true);
    }
}

void Runner::make_room()
{
    while (relay_ && relay_->full())
        relay_done(relay_->wait());
}

void Runner::finish_all()
{
    for (;;) {
        while (relay_ && !relay_->idle())
            relay_done(relay_->wait());
        if (bounces_.empty())
            return;
        send_bounces();
    }
}

void Runner::remove_orphan_envelope(const std::string& id, const std::string& name)
{
    // finish() removes ID.msg before ID.env, so an envelope alone is the
    // remains of a finished message. A directory listing is no snapshot
    // while other runners work, though: look again, right now, before
    // removing anything (an ID.env is only ever written while ID.msg
    // exists), and leave a message being moved to failed/ alone.
    int qfd = queue_fd_.get();
    if (::faccessat(qfd, (id + ".msg").c_str(), F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        return;
    if (::access((failed_ + "/" + id + ".msg").c_str(), F_OK) == 0)
        return;
    if (::unlinkat(qfd, name.c_str(), 0) == 0)
        log_info(id + ": removed " + name + " of a finished message");
}

void Runner::process(const std::string& id, bool in_incoming, bool force)
{
    // Once per run: a message picked up from incoming/ is not tried again
    // when the run lists queue/ (it would count two attempts at once).
    if (!seen_.insert(id).second)
        return;
    int dfd = in_incoming ? incoming_fd_.get() : queue_fd_.get();
    std::string name = in_incoming ? id : id + ".msg";
    std::string path = (in_incoming ? incoming_ : queue_) + "/" + name;
    UniqueFd fd(::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ELOOP)
            quarantine(id, "symbolic link in the spool", !in_incoming);
        else if (errno != ENOENT)
            log_error("open " + path + ": " + std::strerror(errno));
        return;
    }
    // The lock lives on the inode, which keeps it through the rename into
    // queue/: the runner that picks a message up is the one that sends it,
    // and it holds the lock until the message is finished or saved.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
        log_debug(id + ": held by another runner, skipped");
        return;
    }
    struct stat st, now_st;
    if (::fstat(fd.get(), &st) < 0 || st.st_nlink == 0)
        return; // finished by another runner while we opened it
    if (::fstatat(dfd, name.c_str(), &now_st, AT_SYMLINK_NOFOLLOW) < 0 ||
        now_st.st_ino != st.st_ino || now_st.st_dev != st.st_dev)
        return; // moved by another runner while we opened it

    Envelope env;
    bool fresh = in_incoming;
    if (!in_incoming) {
        auto text = read_file(queue_fd_.get(), id + ".env", 16u << 20, true);
        if (!text && text.error().code != EX_NOINPUT) {
            log_error(id + ": " + text.error().text);
            return;
        }
        if (!text) {
            // ID.msg without ID.env: picked up, but the first attempt did
            // not finish (a crash). The drop header is still at its start.
            fresh = true;
        } else {
            auto parsed = parse_envelope(*text, queue_ + "/" + id + ".env");
            if (!parsed) {
                quarantine(id, parsed.error().text, true);
                return;
            }
            env = std::move(*parsed);
            env.id = id;
            if (static_cast<long long>(st.st_size) != env.offset + env.size) {
                quarantine(id, "message file size does not match its envelope", true);
                return;
            }
        }
    }
    if (fresh) {
        bool park = false;
        auto loaded = load_drop(fd.get(), st, id, path, !in_incoming, park);
        if (!loaded) {
            // Out of incoming/ even so: a file left there would make the
            // systemd path unit start runner after runner. In queue/
            // without an envelope it is picked up again by every run.
            if (park && in_incoming)
                (void)::renameat(incoming_fd_.get(), id.c_str(), queue_fd_.get(),
                                 (id + ".msg").c_str());
            return;
        }
        env = std::move(*loaded);
        // Into the private queue. No envelope is written yet: a message
        // delivered at the first attempt never needs one, and a crash
        // before one exists is undone by picking ID.msg up again.
        if (in_incoming && ::renameat(incoming_fd_.get(), id.c_str(), queue_fd_.get(),
                                      (id + ".msg").c_str()) < 0) {
            log_error("rename " + path + " -> " + queue_ + "/" + id +
                      ".msg: " + std::strerror(errno));
            return;
        }
    } else if (!force && env.next > ::time(nullptr)) {
        return;
    }
    auto job = std::make_unique<Job>();
    job->env = std::move(env);
    job->fd = std::move(fd);
    job->envelope_may_exist = !in_incoming;
    attempt(std::move(job));
}

Status Runner::save(Job& job)
{
    const Envelope& env = job.env;
    job.envelope_may_exist = true;
    auto text = format_envelope(env);
    if (!text)
        return text.error();
    std::string tmp = env.id + ".env.tmp";
    // A crash may have left the temporary name behind; we hold the lock.
    ::unlinkat(queue_fd_.get(), tmp.c_str(), 0);
    return replace_file(queue_fd_.get(), queue_, env.id + ".env", tmp, *text, 0600);
}

void Runner::log_rcpt(const Envelope& env, const Recipient& r, const std::string& relay,
                      const char* status)
{
    std::string line = env.id + ": to=<" + r.address + ">";
    if (!r.orig.empty())
        line += ", orig_to=<" + r.orig + ">";
    line += ", relay=" + relay;
    line += ", delay=" + std::to_string(std::max<long long>(0, ::time(nullptr) - env.time));
    line += ", tries=" + std::to_string(env.attempts);
    line += std::string(", status=") + status + " (" + r.reply + ")";
    if (std::string_view(status) == "sent")
        log_info(line);
    else
        log_warning(line);
}

bool Runner::ensure_relay()
{
    if (relay_)
        return true;
    if (relay_tried_)
        return false;
    relay_tried_ = true;
    if (cfg_.relay.hosts.empty()) {
        relay_down_ = "no relay configured ([relay] host in " + cfg_.path + ")";
        return false;
    }
    // The secret is read once per run (a password_command may be slow or
    // rate limited) and only when some message needs the relay.
    auto secret = resolve_secret(cfg_);
    if (!secret) {
        relay_down_ = secret.error().text;
        log_error(relay_down_);
        if (secret.error().code == EX_CONFIG)
            status_ = EX_CONFIG;
        return false;
    }
    // -v shows one dialogue at a time: one connection.
    int connections = opt_.verbose ? 1 : cfg_.relay.connections;
    auto pool = RelayPool::open(cfg_, std::move(*secret), opt_.verbose, connections);
    if (!pool) {
        relay_down_ = pool.error().text;
        log_error(relay_down_);
        return false;
    }
    relay_ = std::move(*pool);
    return true;
}

bool Runner::start_relay(std::unique_ptr<Job>& job)
{
    Envelope& env = job->env;
    for (size_t i = 0; i < env.rcpts.size(); ++i)
        if (env.rcpts[i].kind == RcptKind::Relay && is_open(env.rcpts[i]))
            job->todo.push_back(i);
    if (job->todo.empty())
        return false;
    if (relay_down_.empty() && !ensure_relay() && relay_down_.empty())
        relay_down_ = "relay unavailable";
    if (!relay_down_.empty()) {
        for (size_t i : job->todo) {
            env.rcpts[i].reply = "deferred: " + relay_down_;
            log_rcpt(env, env.rcpts[i], "none", "deferred");
        }
        env.error = relay_down_;
        return false;
    }
    job->from = !cfg_.sender.from.empty() && !env.sender.empty() ? cfg_.sender.from : env.sender;
    start_chunk(std::move(job));
    return true;
}

void Runner::start_chunk(std::unique_ptr<Job> job)
{
    // One transaction per max_rcpts recipients, one after the other.
    const Envelope& env = job->env;
    job->begin = job->next;
    job->end = std::min(job->todo.size(), job->begin + max_rcpts);
    job->next = job->end;
    Transaction t;
    t.from = job->from;
    t.msg = {job->fd.get(), env.offset, env.size};
    for (size_t k = job->begin; k < job->end; ++k) {
        const Recipient& r = env.rcpts[job->todo[k]];
        if (r.state == RcptState::Maybe)
            log_warning(env.id + ": to=<" + r.address +
                        ">: retrying after an unconfirmed transfer: possible duplicate");
        t.rcpts.push_back(r.address);
    }
    uint64_t tag = ++tags_;
    at_relay_[tag] = std::move(job);
    relay_->start(std::move(t), tag);
}

void Runner::relay_done(RelayPool::Done d)
{
    auto it = at_relay_.find(d.tag);
    if (it == at_relay_.end())
        return;
    std::unique_ptr<Job> job = std::move(it->second);
    at_relay_.erase(it);
    Envelope& env = job->env;
    const TransactionResult& res = d.result;
    const Outcome& o = res.outcome;
    for (size_t k = job->begin; k < job->end; ++k) {
        Recipient& r = env.rcpts[job->todo[k]];
        Verdict v = o.rcpts[k - job->begin];
        r.reply = o.replies[k - job->begin];
        const char* status = "deferred";
        switch (v) {
        case Verdict::Sent:
            r.state = RcptState::Sent;
            status = "sent";
            job->dirty = true;
            break;
        case Verdict::Bounced:
            r.state = RcptState::Bounced;
            status = "bounced";
            job->dirty = true;
            break;
        case Verdict::Maybe:
            job->dirty = job->dirty || r.state != RcptState::Maybe;
            r.state = RcptState::Maybe;
            r.reply += " (may have been delivered: possible duplicate on retry)";
            break;
        case Verdict::Deferred:
            // A "maybe" stays maybe until a definite answer comes.
            break;
        }
        log_rcpt(env, r, res.relay, status);
    }
    if (!o.error.empty())
        env.error = o.error;
    if (o.relay_problem && relay_down_.empty()) {
        relay_down_ = o.error;
        log_error("relay " + res.relay + ": " + o.error +
                  "; deferring the relay's other messages in this run");
        // What no connection has begun does not go out; what is under
        // way on other connections finishes.
        for (uint64_t tag : relay_->withdraw()) {
            auto w = at_relay_.find(tag);
            if (w == at_relay_.end())
                continue;
            std::unique_ptr<Job> other = std::move(w->second);
            at_relay_.erase(w);
            other->next = other->begin;
            defer_rest(std::move(other));
        }
    }
    checkpoint(*job);
    if (job->next < job->todo.size() && relay_down_.empty()) {
        start_chunk(std::move(job));
        return;
    }
    defer_rest(std::move(job));
}

void Runner::defer_rest(std::unique_ptr<Job> job)
{
    // The relay recipients not given to the relay wait for the next run.
    for (size_t k = job->next; k < job->todo.size(); ++k)
        job->env.rcpts[job->todo[k]].reply = "deferred: " + relay_down_;
    send_local(*job);
    finish(*job);
}

void Runner::send_local(Job& job)
{
    Envelope& env = job.env;
    std::string msg = queue_ + "/" + env.id + ".msg";
    std::string sender = env.sender;
    for (auto& r : env.rcpts) {
        if (r.kind == RcptKind::Relay || !is_open(r))
            continue;
        LocalResult lr = deliver_local(r, sender, opt_.conf, msg, env.offset);
        r.reply = lr.reply;
        const char* status = "deferred";
        if (lr.verdict == Verdict::Sent) {
            r.state = RcptState::Sent;
            status = "sent";
            job.dirty = true;
        } else if (lr.verdict == Verdict::Bounced) {
            r.state = RcptState::Bounced;
            status = "bounced";
            job.dirty = true;
        } else {
            env.error = lr.reply;
        }
        log_rcpt(env, r, "local", status);
        checkpoint(job);
    }
}

void Runner::checkpoint(Job& job)
{
    const Envelope& env = job.env;
    // State on disk before the next transaction: a crash now costs at most
    // a duplicate, never a loss. When nothing is left to do, finish()'s
    // removal is the state change and this write would be wasted.
    if (!std::any_of(env.rcpts.begin(), env.rcpts.end(), is_open))
        return;
    Status st = save(job);
    if (st)
        job.dirty = false;
    else
        log_error(env.id + ": " + st.error().text);
}

void Runner::attempt(std::unique_ptr<Job> job)
{
    // What is on disk (ID.env, or the drop header) is current.
    Envelope& env = job->env;
    time_t now = ::time(nullptr);
    // Never before a first attempt: a box without a real-time clock may
    // submit with a wrong time before NTP has set it.
    bool expired = env.attempts > 0 && now - env.time > cfg_.queue.lifetime;
    if (expired) {
        for (auto& r : env.rcpts) {
            if (!is_open(r))
                continue;
            r.state = RcptState::Bounced;
            r.reply = "4.4.7 delivery time expired (" + std::to_string(cfg_.queue.lifetime / 3600) +
                      " hours in the queue)" + (r.reply.empty() ? "" : "; last error: " + r.reply);
            log_rcpt(env, r, "none", "bounced");
        }
    } else if (std::count_if(env.rcpts.begin(), env.rcpts.end(), is_open) > 1 && !has_room()) {
        // A message with several recipients may have to record that some
        // were served; with no room to write that, an attempt could send
        // to them again on every run. Wait for space instead: nothing is
        // sent, so nothing needs recording.
        env.error = "spool " + queue_ + " is full: not attempted until its state can be saved";
        for (auto& r : env.rcpts) {
            if (!is_open(r))
                continue;
            r.reply = "deferred: " + env.error;
            log_rcpt(env, r, "none", "deferred");
        }
    } else {
        env.attempts++;
        // The relay's part goes on in relay_done(), which finishes.
        if (start_relay(job))
            return;
        send_local(*job);
    }
    finish(*job);
}

bool Runner::has_room()
{
    if (room_for_state())
        return true;
    // The messages at the relay may need what is left to record their
    // state: they finish first (and no deferral of this one can take the
    // room they counted on); then look again.
    if (!relay_ || relay_->idle())
        return false;
    while (!relay_->idle())
        relay_done(relay_->wait());
    return room_for_state();
}

bool Runner::room_for_state() const
{
    // An envelope is a few KiB at most, written to a temporary name first;
    // what the runner itself may use (f_bavail: the blocks ext4 keeps for
    // root do not count for postern). Each message at the relay has
    // counted on its share.
    const long long room = 64 * 1024 + 8 * 1024 * static_cast<long long>(at_relay_.size());
    struct statvfs vfs;
    if (::fstatvfs(queue_fd_.get(), &vfs) < 0)
        return true; // cannot tell: try, as before
    return static_cast<long long>(vfs.f_bavail) * static_cast<long long>(vfs.f_frsize) >= room;
}

void Runner::finish(Job& job)
{
    Envelope& env = job.env;
    int msg_fd = job.fd.get();
    const std::string& id = env.id;
    bool open = std::any_of(env.rcpts.begin(), env.rcpts.end(), is_open);
    if (open) {
        env.next = next_attempt(::time(nullptr), std::max(env.attempts, 1), cfg_.queue.min_backoff,
                                cfg_.queue.max_backoff);
        Status st = save(job);
        if (st || !job.dirty) {
            // A deferral that changed no recipient needs no record: what is
            // on disk (the envelope of an earlier attempt, or the drop
            // header a fresh pickup reads again) still says what is left,
            // so the message is retried by the next run as it is. Only the
            // retry time is lost, and the spool's reserve ([queue]
            // min_free, which submissions may not use) makes even that rare.
            if (!st)
                log_warning(id + ": delivery state not saved (" + st.error().text +
                            "); nothing changed, retried by the next run");
            return;
        }
        // Some recipients were served, and that could not be recorded: the
        // next attempt starts from the older state and sends to them again.
        // A duplicate, never a loss, and no person has to step in.
        int sent = static_cast<int>(
            std::count_if(env.rcpts.begin(), env.rcpts.end(),
                          [](const Recipient& r) { return r.state == RcptState::Sent; }));
        log_error(id + ": delivery state not saved (" + st.error().text + "); " +
                  std::to_string(sent) +
                  " recipient(s) already sent may get a possible duplicate at the retry");
        return;
    }
    bool bounced = std::any_of(env.rcpts.begin(), env.rcpts.end(),
                               [](const Recipient& r) { return r.state == RcptState::Bounced; });
    if (bounced) {
        std::string to;
        bool dbl = false;
        if (!env.local_sender.empty()) {
            to = env.local_sender;
        } else if (!env.sender.empty()) {
            to = env.sender;
        } else if (!std::all_of(env.rcpts.begin(), env.rcpts.end(), [](const Recipient& r) {
                       return r.state != RcptState::Bounced || is_postmaster(r);
                   })) {
            // A report (null sender) that failed: the postmaster gets it,
            // locally, instead of another report through the same relay.
            to = "postmaster";
            dbl = true;
        } else {
            // Even the postmaster could not get it: keep it for a human.
            (void)save(job);
            quarantine(id, "undeliverable null-sender message (postmaster unreachable)", true);
            return;
        }
        // What to return: the message, or its headers if it is large.
        std::string original;
        long long want = std::min<long long>(env.size, 64 * 1024 + 1);
        original.resize(static_cast<size_t>(want));
        ssize_t n = ::pread(msg_fd, original.data(), original.size(), env.offset);
        original.resize(n > 0 ? static_cast<size_t>(n) : 0);
        BounceInfo bi;
        bi.id = id;
        bi.mta = local_fqdn();
        bi.domain = mail_domain(cfg_);
        bi.to = to.find('@') == std::string::npos ? to + "@" + bi.domain : to;
        bi.now = ::time(nullptr);
        bi.boundary = id + "." + std::to_string(bi.now) + "/" + bi.mta;
        bi.double_bounce = dbl;
        std::string report =
            format_bounce(bi, env, original, static_cast<long long>(original.size()) == env.size);
        // A postmaster notice goes to the local postmaster: the bare name
        // routes local (through the aliases).
        auto nid = inject_bounce(cfg_, report, to);
        if (!nid) {
            // The report must exist before the message may go.
            log_error(id + ": cannot write the non-delivery report: " + nid.error().text);
            env.next =
                next_attempt(::time(nullptr), 1, cfg_.queue.min_backoff, cfg_.queue.max_backoff);
            (void)save(job);
            return;
        }
        log_info(id + ": sender non-delivery notification: " + *nid);
        bounces_.push_back(*nid);
    }
    // ID.msg first: ID.env alone means "finished" to the next run, while
    // ID.msg alone would mean "picked up, attempt again".
    ::unlinkat(queue_fd_.get(), (id + ".msg").c_str(), 0);
    if (job.envelope_may_exist) {
        ::unlinkat(queue_fd_.get(), (id + ".env").c_str(), 0);
        ::unlinkat(queue_fd_.get(), (id + ".env.tmp").c_str(), 0); // a killed save's
    }
    // Making the removal durable only saves a duplicate after a power
    // failure, never a message, so one directory sync covers a batch.
    if (++unsynced_ >= sync_batch)
        sync_queue();
    log_info(id + ": removed");
}

void Runner::sync_queue()
{
    if (unsynced_ == 0)
        return;
    unsynced_ = 0;
    (void)fsync_fd(queue_fd_.get(), queue_);
}

} // namespace postern::send
