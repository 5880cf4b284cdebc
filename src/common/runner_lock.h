// SPDX-License-Identifier: ISC
#pragma once
// The busy-runner lock (docs/DESIGN.md, "Kicking the runner"): flock on
// the queue/ directory. A runner that holds it exclusively has promised
// to list incoming/ once more after it lets go, so a front end that
// commits a message and then finds the lock held starts no runner.
// Only the queue user and root can open queue/ (0700): no submitter can
// take the lock and so stop the kicks. Nothing is created on disk.
// Failure policy: a lock that cannot be taken or tested is "not held";
// the caller then does what it did before the lock existed (the runner
// takes no duty, the front end starts a runner).

#include "common/unique_fd.h"

#include <string>

namespace postern {

class RunnerLock {
  public:
    RunnerLock() = default;
    // Takes the lock on <spool>/queue without waiting. held() is false
    // when another runner has it or queue/ cannot be opened.
    static RunnerLock try_acquire(const std::string& spool);

    bool held() const { return held_; }
    // Lets go of the lock (flock LOCK_UN), keeping the directory open.
    void release();
    // Takes it again after release(); false when another runner has it.
    bool retake();

  private:
    UniqueFd fd_;
    bool held_ = false;
};

// True when a runner holds the lock right now. False when it is free or
// cannot be tested (queue/ missing, or not ours to open).
bool runner_busy(const std::string& spool);

} // namespace postern
