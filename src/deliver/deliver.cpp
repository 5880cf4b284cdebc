// SPDX-License-Identifier: ISC
// WARNING: this is the engine of a set-user-ID root program. Root power is
// used by open_mbox() alone; become() follows before any message byte is
// written. Read deliver.h first.
#include "deliver/deliver.h"

#include "common/address.h"
#include "common/config.h"
#include "common/io.h"
#include "common/log.h"
#include "common/process.h"
#include "deliver/command.h"
#include "deliver/format.h"
#include "deliver/maildir.h"
#include "deliver/mbox.h"
#include "deliver/message.h"
#include "deliver/user.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace postern::deliver {
namespace {

struct Job {
    const Config& cfg;
    const Message& msg;
    std::string sender;
    std::time_t now;
};

// Streams the message through a converter into sink in 64 KiB pieces.
Status write_body(const Job& job, bool mboxrd, const Sink& sink, MboxLock* lock)
{
    LineConverter conv(mboxrd);
    std::string out;
    Status st = job.msg.each_chunk([&](std::string_view chunk) -> Status {
        out.clear();
        conv.add(chunk, out);
        if (lock)
            lock->touch();
        return sink(out);
    });
    if (!st)
        return st;
    out.clear();
    conv.finish(out);
    return sink(out);
}

// Appends one mbox-format message to an open, locked file.
Status append_mbox(const Job& job, int fd, MboxLock& lock, const std::string& path,
                   const std::string& rcpt)
{
    lock.repair(path);
    Result<MboxAppend> app = MboxAppend::begin(fd, path);
    if (!app)
        return app.error();
    // A partial message that could not be cut off (one a killed delivery
    // left where no dot lock could note it) must not swallow ours.
    std::string head = mbox_separator(fd, app->start());
    lock.note_start(app->start() + static_cast<off_t>(head.size()));
    head += from_line(job.sender, job.now) +
            trace_headers(job.sender, rcpt, !job.msg.has_return_path());
    Status st = app->write(head);
    if (!st)
        return st;
    st = write_body(
        job, true, [&](std::string_view d) { return app->write(d); }, &lock);
    if (!st)
        return st;
    return app->commit();
}

// True when every directory on the way to dir is a real directory owned
// by root that no one else may change (the last one, the mailbox
// directory, may be group-writable, as /var/mail is 2775 root:mail).
// Only then may root open or create a mailbox in it: a symbolic link or a
// user's directory anywhere on the path (mailbox = %h/Mail/inbox with
// ~/Mail pointing at /etc/cron.d) would let root write where the user
// chose. Checked with lstat, component by component, without following.
bool root_may_open_in(const std::string& dir)
{
    if (dir.empty() || dir[0] != '/')
        return false;
    std::string path;
    size_t pos = 1;
    for (;;) {
        size_t slash = dir.find('/', pos);
        std::string part =
            dir.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
        bool last =
            slash == std::string::npos || dir.find_first_not_of('/', slash) == std::string::npos;
        if (!part.empty()) {
            path += "/" + part;
            struct stat st;
            if (::lstat(path.c_str(), &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
                return false;
            bool others_write = (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX);
            bool group_write = (st.st_mode & S_IWGRP) && !(st.st_mode & S_ISVTX);
            if (others_write || (group_write && !last))
                return false;
        }
        if (last)
            return true;
        pos = slash + 1;
    }
}

// Delivers to one user's mailbox. repair_only: take the locks and cut off
// a partial message a killed delivery left (MboxLock::repair), nothing
// else; run after a delivery child was killed, so the mailbox is whole
// again before we report the failure.
Status deliver_user(const Job& job, const std::string& name, bool repair_only = false)
{
    Result<User> u = find_user(name);
    if (!u)
        return u.error();
    Result<MailboxPath> mp = mailbox_path(job.cfg.local.mailbox, *u);
    if (!mp)
        return mp.error();
    std::string domain = mail_domain(job.cfg);
    std::string rcpt = domain.empty() ? u->name : u->name + "@" + domain;
    bool root = ::geteuid() == 0;

    if (mp->maildir && repair_only)
        return {}; // a Maildir delivery never shows a partial message
    if (mp->maildir) {
        // A Maildir needs no root power at all: become the user first.
        Status st = become(u->uid, u->gid);
        if (!st)
            return st;
        std::string head = trace_headers(job.sender, rcpt, !job.msg.has_return_path());
        Result<std::string> file = maildir_deliver(
            mp->path,
            [&](const Sink& sink) -> Status {
                Status s = sink(head);
                return s ? write_body(job, false, sink, nullptr) : s;
            },
            mp->home, u->uid == ::geteuid());
        if (!file)
            return file.error();
        log_info("to=<" + u->name + ">, maildir=" + *file + ", status=delivered");
        return {};
    }

    MailboxGroup grp = mailbox_group(job.cfg.local.mail_group, *u);
    if (root) {
        std::string dir = mp->path.substr(0, mp->path.rfind('/'));
        if (!root_may_open_in(dir.empty() ? "/" : dir)) {
            // Not a system mail spool: the user's own rights must do.
            Status st = become(u->uid, grp.gid);
            if (!st)
                return st;
            root = false;
        }
    }
    OpenRules rules;
    rules.owner = u->uid;
    rules.may_create = !repair_only && (root || u->uid == ::geteuid());
    rules.set_owner = root;
    rules.new_uid = u->uid;
    rules.new_gid = grp.gid;
    rules.new_mode = grp.is_mail_group ? 0660 : 0600;
    // A missing directory (mailbox = %h/mail/inbox) is made by the
    // recipient only: root never reaches this for someone else's mailbox,
    // since root_may_open_in() needs the directory to exist.
    rules.home = mp->home;
    rules.make_dirs = !repair_only && u->uid == ::geteuid();
    Result<UniqueFd> fd = open_mbox(mp->path, rules);
    if (!fd)
        return fd.error();
    // The last use of root: from here on we are the mailbox owner, with
    // the mail group so the dotlock can be made in /var/mail (2775).
    Status st = become(u->uid, grp.gid);
    if (!st)
        return st;
    Result<MboxLock> lock =
        MboxLock::acquire(fd->get(), mp->path + ".lock", job.cfg.local.lock_timeout, mp->path);
    if (!lock)
        return lock.error();
    if (repair_only) {
        lock->repair(mp->path);
        return {};
    }
    st = append_mbox(job, fd->get(), *lock, mp->path, rcpt);
    if (!st)
        return st;
    log_info("to=<" + u->name + ">, mailbox=" + mp->path +
             ", size=" + std::to_string(job.msg.size()) + ", status=delivered");
    return {};
}

// Runs fn in a child when we are root (each child drops root for good);
// returns its exit status. Unprivileged runs need no child.
int isolated(const std::function<Status()>& fn, bool* killed = nullptr)
{
    auto code_of = [](const Status& st) {
        if (st)
            return 0;
        log_error(st.error().text);
        return st.error().code;
    };
    if (::geteuid() != 0)
        return code_of(fn());
    pid_t pid = ::fork();
    if (pid < 0) {
        log_error("fork: " + std::string(std::strerror(errno)));
        return EX_OSERR;
    }
    if (pid == 0)
        ::_exit(code_of(fn()));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    log_error("delivery process killed by signal " + std::to_string(WTERMSIG(status)));
    if (killed)
        *killed = true;
    return EX_TEMPFAIL;
}

// File and command targets run as [local] command_user when we are root.
Result<struct passwd> become_command_user(const Config& cfg)
{
    if (::geteuid() != 0) {
        struct passwd* me = ::getpwuid(::geteuid());
        if (!me)
            return fail(EX_OSERR, "cannot look up uid " + std::to_string(::geteuid()));
        return *me;
    }
    struct passwd* pw = ::getpwnam(cfg.local.command_user.c_str());
    if (!pw || pw->pw_uid == 0)
        return fail(EX_CONFIG, "command_user '" + cfg.local.command_user +
                                   "' does not exist or is root (" +
                                   cfg.where("local.command_user") + ")");
    struct passwd copy = *pw;
    Status st = become(copy.pw_uid, copy.pw_gid);
    if (!st)
        return st.error();
    return copy;
}

Status deliver_file(const Job& job, const std::string& path)
{
    if (path.empty() || path[0] != '/')
        return fail(EX_USAGE, "--file needs an absolute path");
    Result<struct passwd> pw = become_command_user(job.cfg);
    if (!pw)
        return pw.error();
    if (path == "/dev/null")
        return {};
    // Only the usual checks on the file itself: it must be a regular file
    // with one link; whoever owns it, command_user must be able to write it.
    OpenRules rules;
    rules.read_back = false;
    Result<UniqueFd> fd = open_mbox(path, rules);
    if (!fd)
        return fd.error();
    Result<MboxLock> lock = MboxLock::acquire(fd->get(), "", job.cfg.local.lock_timeout, path);
    if (!lock)
        return lock.error();
    Status st = append_mbox(job, fd->get(), *lock, path, path);
    if (!st)
        return st;
    log_info("to=<" + path + ">, status=delivered");
    return {};
}

Status deliver_command(const Job& job, const std::string& command)
{
    Result<struct passwd> pw = become_command_user(job.cfg);
    if (!pw)
        return pw.error();
    // The command reads a file, not a pipe: no deadlock when it reads
    // nothing, and the message is converted only once.
    UniqueFd tmp(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (!tmp.valid()) {
        char name[] = "/tmp/postern-cmd.XXXXXX";
        tmp.reset(::mkostemp(name, O_CLOEXEC));
        if (!tmp.valid())
            return fail_errno(EX_TEMPFAIL, "create temporary file in", "/tmp");
        ::unlink(name);
    }
    Sink sink = [&](std::string_view d) { return write_all(tmp.get(), d, "temporary file"); };
    Status st = sink(trace_headers(job.sender, "|" + command, !job.msg.has_return_path()));
    if (st)
        st = write_body(job, false, sink, nullptr);
    if (!st)
        return st;
    std::vector<std::string> env = clean_environment();
    env.push_back("HOME=" + std::string(pw->pw_dir ? pw->pw_dir : "/"));
    env.push_back("USER=" + std::string(pw->pw_name));
    env.push_back("LOGNAME=" + std::string(pw->pw_name));
    env.push_back("SHELL=/bin/sh");
    env.push_back("SENDER=" + job.sender);
    st = run_command(command, tmp.get(), job.cfg.local.command_timeout, env);
    if (!st)
        return st;
    log_info("to=<|" + printable(command) + ">, status=delivered");
    return {};
}

} // namespace

Result<Options> parse_args(int argc, char** argv)
{
    enum { OptFile = 1000, OptCommand };
    static const struct option longopts[] = {
        {"file", required_argument, nullptr, OptFile},
        {"command", required_argument, nullptr, OptCommand},
        {nullptr, 0, nullptr, 0},
    };
    Options o;
    ::optind = 0; // full re-initialisation, so tests may call us twice
    ::opterr = 0;
    int c;
    while ((c = ::getopt_long(argc, argv, "+C:f:r:d", longopts, nullptr)) != -1) {
        switch (c) {
        case 'C':
            o.config = ::optarg;
            break;
        case 'f':
        case 'r':
            o.sender_given = true;
            o.sender = ::optarg;
            break;
        case 'd': // mail.local compatibility: "deliver"; the only mode
            break;
        case OptFile:
            o.file = ::optarg;
            break;
        case OptCommand:
            o.command = ::optarg;
            break;
        default:
            return fail(EX_USAGE, "usage: postern-deliver [-C conf] [-f sender] [-d] [--] user... "
                                  "| --file /path | --command cmd");
        }
    }
    for (int i = ::optind; i < argc; ++i)
        o.users.emplace_back(argv[i]);
    int modes = !o.users.empty() + !o.file.empty() + !o.command.empty();
    if (modes != 1)
        return fail(EX_USAGE, "usage: give either users, --file /path or --command cmd");
    if (o.sender == "<>")
        o.sender.clear();
    if (o.sender.size() > 2 && o.sender.front() == '<' && o.sender.back() == '>')
        o.sender = o.sender.substr(1, o.sender.size() - 2);
    return o;
}

Result<int> run(int argc, char** argv)
{
    Result<Options> opt = parse_args(argc, argv);
    if (!opt)
        return opt.error();
    // A set-user-ID run trusts only the installed configuration: -C would
    // let the caller choose where root opens files.
    if (!opt->config.empty() && ::geteuid() != ::getuid() && ::getuid() != 0)
        return fail(EX_NOPERM, "-C is not allowed here");
    if (!opt->sender.empty()) {
        Status ok = check_address(opt->sender, "sender");
        if (!ok)
            return fail(EX_USAGE, ok.error().text);
    }
    Result<Config> cfg = load_config(opt->config.empty() ? default_config_path() : opt->config);
    if (!cfg)
        return cfg.error();
    if (cfg->log.debug)
        log_set_debug(true);

    // All of stdin is read before any mailbox is touched.
    Result<Message> msg = Message::from_fd(0);
    if (!msg)
        return msg.error();
    // Without -f, the sender of an envelope From_ line another MTA put
    // first (mail.local's rule), when it is a valid address.
    std::string sender = opt->sender;
    if (!opt->sender_given && msg->from_line() &&
        (msg->envelope_sender().empty() || check_address(msg->envelope_sender(), "sender")))
        sender = msg->envelope_sender();
    Job job{*cfg, *msg, sender, ::time(nullptr)};

    if (!opt->file.empty())
        return isolated([&] { return deliver_file(job, opt->file); });
    if (!opt->command.empty())
        return isolated([&] { return deliver_command(job, opt->command); });

    int result = 0;
    for (const auto& user : opt->users) {
        bool killed = false;
        int code = isolated([&] { return deliver_user(job, user); }, &killed);
        if (killed)
            (void)isolated([&] { return deliver_user(job, user, true); });
        if (code != 0 && (result == 0 || code == EX_TEMPFAIL))
            result = code;
    }
    return result;
}

} // namespace postern::deliver
