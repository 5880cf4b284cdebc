// SPDX-License-Identifier: ISC
// The end of a run that holds the busy-runner lock (docs/DESIGN.md,
// "Kicking the runner"): front ends that found the lock held started no
// runner, so their messages are this run's to pick up.
#include "send/runner.h"

#include "common/log.h"
#include "common/spool.h"

namespace postern::send {

size_t Runner::pick_up_new()
{
    auto in = list_dir(incoming_);
    if (!in) {
        log_error(in.error().text);
        return 0;
    }
    size_t n = 0;
    for (const auto& name : *in) {
        if (!valid_queue_id(name) || seen_.count(name))
            continue;
        make_room();
        process(name, true, true);
        ++n;
    }
    send_bounces();
    return n;
}

int Runner::drain(RunnerLock& busy)
{
    // Every message of the run is finished before the lock goes: while it
    // is held, the runner is at work.
    finish_all();
    if (!busy.held())
        return status_;
    for (;;) {
        // Under the lock: until a listing shows nothing this run has not
        // worked on.
        while (busy.held() && pick_up_new() > 0)
            finish_all();
        busy.release();
        // A front end that committed before the release and saw the lock
        // held relies on this listing, which starts after the release and
        // so after its commit. One that tests after the release finds the
        // lock free and starts its own runner.
        size_t n = pick_up_new();
        finish_all();
        if (n == 0)
            break;
        // Something came: take the duty again if no other runner has
        // (if one has, it looks again after its own release).
        busy.retake();
    }
    sync_queue();
    return status_;
}

} // namespace postern::send
