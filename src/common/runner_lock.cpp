// SPDX-License-Identifier: ISC
#include "common/runner_lock.h"

#include "common/spool.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

namespace postern {
namespace {

UniqueFd open_queue(const std::string& spool)
{
    return UniqueFd(::open(queue_dir(spool).c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
}

} // namespace

RunnerLock RunnerLock::try_acquire(const std::string& spool)
{
    RunnerLock l;
    l.fd_ = open_queue(spool);
    if (l.fd_.valid())
        l.retake();
    return l;
}

void RunnerLock::release()
{
    if (held_)
        ::flock(fd_.get(), LOCK_UN);
    held_ = false;
}

bool RunnerLock::retake()
{
    if (!held_ && fd_.valid())
        held_ = ::flock(fd_.get(), LOCK_EX | LOCK_NB) == 0;
    return held_;
}

bool runner_busy(const std::string& spool)
{
    // A shared lock conflicts only with a runner's exclusive one: two
    // front ends testing at once never see each other as a runner.
    UniqueFd fd = open_queue(spool);
    if (!fd.valid())
        return false;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0)
        return false; // closing the descriptor lets go of it
    return errno == EWOULDBLOCK;
}

} // namespace postern
