// SPDX-License-Identifier: ISC
#include "submit/submit.h"

#include "common/address.h"
#include "common/config.h"
#include "common/io.h"
#include "common/log.h"
#include "common/privilege.h"
#include "common/runner_lock.h"
#include "submit/address_list.h"
#include "submit/import.h"
#include "submit/kick.h"
#include "submit/mailq.h"
#include "submit/message.h"
#include "submit/options.h"
#include "submit/smtp_session.h"
#include "submit/status.h"
#include "submit/verify.h"

#include <sysexits.h>
#include <unistd.h>

#include <algorithm>

#ifndef POSTERN_VERSION
#define POSTERN_VERSION "unknown"
#endif

namespace postern::submit {
namespace {

Status print(const std::string& text) { return write_all(STDOUT_FILENO, text, "standard output"); }

// -C, -v, -q and --check from a non-root caller of a set-id front end
// would let them point us at their own config or watch a privileged run.
Status check_privilege(const SubmitOptions& o)
{
    if (!running_setid() || caller_is_root())
        return {};
    if (!o.config_path.empty())
        return fail(EX_NOPERM, "-C is allowed only for root (postern runs set-group-ID)");
    if (o.verbose)
        return fail(EX_NOPERM, "-v is allowed only for root (postern runs set-group-ID)");
    if (o.mode == Mode::Flush)
        return fail(EX_NOPERM, "-q is allowed only for root (postern runs set-group-ID)");
    if (o.mode == Mode::Check)
        return fail(EX_NOPERM, "--check is allowed only for root (postern runs set-group-ID)");
    if (o.mode == Mode::Import)
        return fail(EX_NOPERM, "--import is allowed only for root (postern runs set-group-ID "
                               "and would read any file)");
    return {};
}

// argv recipients: each word may be an address list ("a@x, B <b@y>");
// the bare addr-specs are kept. Control bytes are refused first, so they
// are never mistaken for the white space the list parser skips.
Result<std::vector<std::string>> argv_recipients(const std::vector<std::string>& words)
{
    std::vector<std::string> out;
    for (const auto& w : words) {
        bool control = std::any_of(w.begin(), w.end(), [](char c) {
            return static_cast<unsigned char>(c) < 32 || c == 127;
        });
        auto list =
            control ? Result<std::vector<Mailbox>>(fail(EX_DATAERR, "")) : parse_address_list(w);
        if (!list || list->empty()) {
            Status st = check_address(w, "recipient");
            if (!st)
                return st.error();
            return fail(EX_NOUSER, "recipient '" + printable(w) + "': malformed address");
        }
        for (const auto& m : *list) {
            Status st = check_address(m.addr, "recipient");
            if (!st)
                return st.error();
            if (std::find(out.begin(), out.end(), m.addr) == out.end())
                out.push_back(m.addr);
        }
    }
    return out;
}

Result<MessageJob> make_job(const SubmitOptions& o, const Config& cfg)
{
    MessageJob job;
    job.cfg = &cfg;
    job.caller = current_caller();
    std::string domain = mail_domain(cfg);
    if (o.have_fullname) {
        for (char c : o.fullname)
            if (static_cast<unsigned char>(c) < 32 || c == 127)
                return fail(EX_DATAERR, "full name (-F) '" + printable(o.fullname) +
                                            "' contains a control character (refused: it could "
                                            "inject headers)");
        job.fullname = o.fullname;
    } else {
        job.fullname = job.caller.gecos;
    }
    if (o.have_sender) {
        std::string s = o.sender;
        if (s.size() >= 2 && s.front() == '<' && s.back() == '>')
            s = s.substr(1, s.size() - 2);
        if (!s.empty()) {
            Status st = check_address(s, "sender (-f)");
            if (!st)
                return st.error();
            s = qualify(s, domain);
        }
        job.sender = s;
        job.from_addr = s.empty() ? job.caller.user : s;
    } else {
        job.sender = job.caller.user + "@" + domain;
        job.from_addr = job.caller.user; // bare: qualified or rewritten with the headers
        if (job.caller.known)
            job.local_sender = job.caller.user;
    }
    auto rcpts = argv_recipients(o.recipients);
    if (!rcpts)
        return rcpts.error();
    job.rcpts = std::move(*rcpts);
    job.extract = o.extract_recipients;
    job.notify = o.notify;
    job.ret = o.ret;
    job.envid = o.envid;
    for (char c : o.envid)
        if (static_cast<unsigned char>(c) <= 32 || c == 127)
            return fail(EX_DATAERR, "envelope id (-V) '" + printable(o.envid) +
                                        "' contains a control character or space");
    job.body = o.body;
    return job;
}

// Starts a delivery attempt for the queued ids, as -od says.
Result<int> kick(const SubmitOptions& o, const Config& cfg, const std::vector<std::string>& ids)
{
    if (o.delivery == Delivery::Queue || ids.empty())
        return 0;
    if (!may_start_runner()) {
        log_debug("set-id for a non-root caller: the runner is started by the system");
        return 0;
    }
    // Tested after the commit: a runner holding the lock now lists
    // incoming/ again after it lets go, and so sees our messages
    // (docs/DESIGN.md, "Kicking the runner").
    if (o.delivery == Delivery::Background && runner_busy(cfg.queue.dir)) {
        log_debug("a runner is at work and will pick the message up: none started");
        return 0;
    }
    auto argv = runner_argv(o.config_path, o.verbose);
    if (::access(argv[0].c_str(), X_OK) != 0) {
        log_warning("cannot start " + argv[0] + ": not found; the message stays queued");
        return 0;
    }
    for (const auto& id : ids) {
        auto a = argv;
        a.push_back("--id");
        a.push_back(id);
        if (o.delivery == Delivery::Background) {
            kick_background(a);
            continue;
        }
        auto status = run_foreground(a);
        if (!status)
            return status.error();
        if (*status != 0)
            return *status;
    }
    return 0;
}

Result<int> send_mode(const SubmitOptions& o, const Config& cfg)
{
    auto job = make_job(o, cfg);
    if (!job)
        return job.error();
    if (!o.extract_recipients && job->rcpts.empty())
        return fail(EX_USAGE, "no recipients specified\n" + usage_text(o.program));
    InputReader in(STDIN_FILENO);
    // A lone "." ends the message only for a person typing (SPEC "Dots").
    StdinSource src(in, !o.ignore_dots && ::isatty(STDIN_FILENO));
    auto id = submit_message(*job, src);
    if (!id)
        return id.error();
    log_info(*id + ": uid=" + std::to_string(job->caller.uid) + " from=<" + job->sender + ">");
    return kick(o, cfg, {*id});
}

Result<int> smtp_mode(const SubmitOptions& o, const Config& cfg)
{
    SubmitOptions none = o;
    none.recipients.clear();
    none.extract_recipients = false;
    auto job = make_job(none, cfg);
    if (!job)
        return job.error();
    auto ids = run_smtp_session(STDIN_FILENO, STDOUT_FILENO, *job);
    if (!ids)
        return ids.error();
    auto k = kick(o, cfg, *ids);
    if (!k)
        return k.error();
    return 0;
}

} // namespace

Result<int> run(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    auto opts = parse_args(args);
    if (!opts)
        return opts.error();
    const SubmitOptions& o = *opts;
    if (o.mode == Mode::Version) {
        Status st = print("postern " POSTERN_VERSION "\n");
        if (!st)
            return st.error();
        return 0;
    }
    Status st = check_privilege(o);
    if (o.mode == Mode::Status) {
        // Monitoring wants 0-3 whatever goes wrong: errors are UNKNOWN.
        StatusFormat f = o.status_json  ? StatusFormat::Json
                         : o.prometheus ? StatusFormat::Prometheus
                                        : StatusFormat::Line;
        if (!st)
            return status_unknown(st.error().text, f);
        return run_status(o.config_path.empty() ? default_config_path() : o.config_path,
                          Thresholds{o.warn_age, o.crit_age}, f);
    }
    if (!st)
        return st.error();
    if (o.mode == Mode::Import)
        return run_import(o.import_file, o.import_format);
    if (o.verbose) {
        log_set_stderr(true);
        log_set_debug(true);
    }
    if (o.mode == Mode::Check) {
        // postern-send does the check: it alone may read the secret.
        auto a = runner_argv(o.config_path, o.verbose);
        a.push_back("--check");
        if (!o.check_send.empty()) {
            a.push_back("--send");
            a.push_back(o.check_send);
        }
        st = exec_program(a);
        return st.error();
    }
    auto cfg = load_config(o.config_path.empty() ? default_config_path() : o.config_path);
    if (!cfg)
        return cfg.error();
    for (const auto& x : o.ignored_o)
        log_debug("ignoring option -o" + printable(x));

    switch (o.mode) {
    case Mode::Queue:
        st = print_queue(*cfg);
        break;
    case Mode::Aliases: {
        auto r = aliases_report(*cfg);
        if (!r)
            return r.error();
        st = print(*r);
        break;
    }
    case Mode::Verify: {
        auto r = verify_report(*cfg, o.recipients);
        if (!r)
            return r.error();
        st = print(*r);
        break;
    }
    case Mode::Flush: {
        auto a = runner_argv(o.config_path, o.verbose);
        a.push_back("--flush");
        return run_foreground(a);
    }
    case Mode::Smtp:
        return smtp_mode(o, *cfg);
    default:
        return send_mode(o, *cfg);
    }
    if (!st)
        return st.error();
    return 0;
}

} // namespace postern::submit
