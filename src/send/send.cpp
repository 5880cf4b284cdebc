// SPDX-License-Identifier: ISC
#include "send/send.h"

#include "common/log.h"
#include "common/privilege.h"
#include "common/spool.h"
#include "send/check.h"

#include <curl/curl.h>

#include <string_view>
#include <unistd.h>

namespace postern::send {
namespace {

const char* usage =
    "usage: postern-send [-C conf] [-v] [--id ID | --flush | --check [--send ADDR]]";

} // namespace

Result<Options> parse_options(int argc, char** argv)
{
    Options o;
    bool mode_set = false;
    auto set_mode = [&](Options::Mode m) {
        if (mode_set)
            return false;
        mode_set = true;
        o.mode = m;
        return true;
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc)
                return false;
            out = argv[++i];
            return !out.empty();
        };
        bool ok = true;
        if (a == "-C")
            ok = value(o.conf);
        else if (a == "-v")
            o.verbose = true;
        else if (a == "--flush" || a == "-q")
            ok = set_mode(Options::Mode::Flush);
        else if (a == "--id")
            ok = set_mode(Options::Mode::Id) && value(o.id) && valid_queue_id(o.id);
        else if (a == "--check")
            ok = set_mode(Options::Mode::Check);
        else if (a == "--send")
            ok = value(o.send_to);
        else
            ok = false;
        if (!ok)
            return fail(EX_USAGE, std::string("bad argument '") + std::string(a) + "'; " + usage);
    }
    if (!o.send_to.empty() && o.mode != Options::Mode::Check)
        return fail(EX_USAGE, std::string("--send needs --check; ") + usage);
    return o;
}

Result<int> run(int argc, char** argv)
{
    auto opt = parse_options(argc, argv);
    if (!opt)
        return opt.error();
    Status who = become_queue_user();
    if (!who)
        return who.error();
    // DropFile (bounce reports) switches to the drop group around its
    // calls; the runner has no set-id bit, so this only records that.
    drop_group_init();
    // A box without a syslog daemon (containers) must still show why mail
    // did not leave: copy the log to stderr when /dev/log is missing.
    bool no_syslog = ::access("/dev/log", F_OK) != 0;
    log_set_stderr(opt->verbose || no_syslog || opt->mode == Options::Mode::Check);
    // The environment is already clean (sanitize_process), so libcurl finds
    // no SSLKEYLOGFILE or *_proxy when it initialises.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fail(EX_OSERR, "libcurl initialisation failed");
    struct CurlCleanup {
        ~CurlCleanup() { curl_global_cleanup(); }
    } cleanup;

    std::string path = opt->conf.empty() ? default_config_path() : opt->conf;
    auto cfg = load_config(path);
    if (!cfg)
        return cfg.error();
    log_configure(cfg->log);
    if (cfg->log.debug || opt->verbose)
        log_set_debug(true);
    if (opt->mode == Options::Mode::Check)
        return run_check(*cfg, *opt);
    auto runner = Runner::open(*cfg, *opt);
    if (!runner)
        return runner.error();
    // Held from before the first look at incoming/ until drain() has
    // looked at it for the last time: while it is held, front ends start
    // no runner.
    RunnerLock busy = RunnerLock::try_acquire(cfg->queue.dir);
    return (*runner)->run(busy);
}

} // namespace postern::send
