// SPDX-License-Identifier: ISC
#pragma once
// The queue runner: picks drop files up from incoming/ into queue/
// (docs/DESIGN.md "Pickup"), then attempts queued messages: relay
// recipients over one RelaySession, local ones through postern-deliver.
//
// Invariants: a message is worked on only under flock on its inode
// (incoming/ID, then queue/ID.msg: the same inode); ID.env exists only for
// a message that has to wait (written when recipients remain open after a
// transaction, replaced whole, never edited); a message leaves the queue
// only after its bounce (if any) is in incoming/, ID.msg before ID.env.
// Retry: next = now + min(max_backoff, min_backoff * 2^(attempts-1));
// after [queue] lifetime pending recipients bounce.
// Failure policy: one message's problem never stops the run (it is
// logged, the message deferred or moved to failed/); a relay-level
// failure (connect, TLS, AUTH, policy) defers the remaining relay
// recipients of the run without contacting the relay again.

#include "common/aliases.h"
#include "common/config.h"
#include "common/envelope.h"
#include "common/result.h"
#include "common/runner_lock.h"
#include "common/unique_fd.h"
#include "send/relay.h"

#include <sys/stat.h>

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace postern::send {

struct Options {
    enum class Mode { Run, Flush, Id, Check };
    Mode mode = Mode::Run;
    std::string conf;     // -C path, "" for the default
    std::string id;       // --id
    std::string send_to;  // --check --send ADDR
    bool verbose = false; // -v
};

class Runner {
  public:
    // Creates queue/ and failed/ (0700) when missing. Errors: EX_TEMPFAIL
    // when the spool cannot be used, EX_CONFIG for a broken aliases file.
    static Result<std::unique_ptr<Runner>> open(const Config& cfg, const Options& opt);

    // One queue run (Run, Flush) or one message (Id). With busy (the
    // busy-runner lock) held, it also picks up what is submitted while it
    // works, between queued messages and at the end, until incoming/ has
    // nothing new; then it lets go of the lock and looks once more
    // (docs/DESIGN.md, "Kicking the runner"). Returns the exit status: 0,
    // EX_TEMPFAIL when the spool cannot be listed, or EX_CONFIG when the
    // secret could not be resolved.
    int run(RunnerLock& busy);

    // Works on one message under its lock: picks incoming/ID up (or
    // queue/ID.msg that has no envelope yet) and attempts it, or attempts
    // queue/ID when due (force: whatever its retry time). A message another
    // runner holds is skipped.
    void process(const std::string& id, bool in_incoming, bool force);

  private:
    Runner() = default;
    void sweep();
    size_t pick_up_new();
    void send_bounces();
    // The end of a run that holds the busy-runner lock (drain.cpp).
    int drain(RunnerLock& busy);
    void quarantine(const std::string& id, const std::string& why, bool queued);
    // Reads and checks a drop file and expands its recipients; quarantines
    // what cannot be used.
    // park: the message is fine but cannot be expanded now (an aliases
    // problem for the admin); it is to wait in queue/ without an envelope.
    std::optional<Envelope> load_drop(int fd, const struct stat& st, const std::string& id,
                                      const std::string& path, bool from_queue, bool& park);
    void attempt(Envelope& env, int msg_fd);
    // True when queue/ has room for an envelope write (64 KiB free).
    bool room_for_state() const;
    void checkpoint(const Envelope& env);
    // Removes queue/<name> (ID.env or ID.env.tmp) when ID.msg is gone.
    void remove_orphan_envelope(const std::string& id, const std::string& name);
    void sync_queue();
    bool ensure_relay();
    void send_relay(Envelope& env, int msg_fd);
    void send_local(Envelope& env);
    Status save(const Envelope& env);
    void finish(Envelope& env, int msg_fd);
    void log_rcpt(const Envelope& env, const Recipient& r, const std::string& relay,
                  const char* status);

    Config cfg_;
    Options opt_;
    std::string incoming_, queue_, failed_;
    UniqueFd incoming_fd_, queue_fd_;
    Aliases aliases_;
    std::unique_ptr<RelaySession> relay_;
    bool relay_tried_ = false;        // secret resolved / session opened once per run
    std::string relay_down_;          // why relay recipients are deferred for the rest of the run
    int status_ = 0;                  // exit status of the run
    std::deque<std::string> bounces_; // reports injected during the run, sent before it ends
    int unsynced_ = 0;                // removals from queue/ not yet made durable
    std::set<std::string> seen_;      // messages this run has worked on
    bool dirty_ = false;              // a recipient's state changed since it was last saved
    static constexpr int sync_batch = 64;
};

} // namespace postern::send
