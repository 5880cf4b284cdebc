// SPDX-License-Identifier: ISC
#pragma once
// The queue runner: picks drop files up from incoming/ into queue/
// (docs/DESIGN.md "Pickup"), then attempts queued messages: relay
// recipients over up to [relay] connections sessions at once (RelayPool),
// local ones through postern-deliver.
//
// A message at the relay is a Job: its envelope and its open, locked file.
// The runner takes the next message only when a connection is free
// (make_room()), and it finishes a message (local recipients, state,
// bounce, removal) when its last transaction comes back, all in this one
// thread.
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
#include "send/pool.h"
#include "send/relay.h"

#include <sys/stat.h>

#include <cstdint>
#include <deque>
#include <map>
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
    // A message being attempted.
    struct Job {
        Envelope env;
        UniqueFd fd;               // holds the message's lock
        bool envelope_may_exist;   // from queue/, or saved during this attempt
        bool dirty = false;        // a recipient's state changed since it was last saved
        std::vector<size_t> todo;  // its open relay recipients
        size_t next = 0;           // first of todo not yet given to the relay
        size_t begin = 0, end = 0; // the part of todo at the relay now
        std::string from;
    };

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
    void attempt(std::unique_ptr<Job> job);
    // True when queue/ has room for an envelope write (64 KiB free, and
    // 8 KiB more for each message at the relay).
    bool room_for_state() const;
    // room_for_state(), after the messages at the relay have finished
    // when it is short.
    bool has_room();
    void checkpoint(Job& job);
    // Removes queue/<name> (ID.env or ID.env.tmp) when ID.msg is gone.
    void remove_orphan_envelope(const std::string& id, const std::string& name);
    void sync_queue();
    bool ensure_relay();
    // Gives the job's relay recipients to the relay; false when it has
    // none, or they were deferred at once (the relay is down this run).
    bool start_relay(std::unique_ptr<Job>& job);
    void start_chunk(std::unique_ptr<Job> job);
    void relay_done(RelayPool::Done d);
    // Defers the job's relay recipients from job->next on, then finishes it.
    void defer_rest(std::unique_ptr<Job> job);
    // Waits until a connection is free for the next message.
    void make_room();
    // Waits for every transaction, and sends the reports written meanwhile.
    void finish_all();
    void send_local(Job& job);
    Status save(Job& job);
    void finish(Job& job);
    void log_rcpt(const Envelope& env, const Recipient& r, const std::string& relay,
                  const char* status);

    Config cfg_;
    Options opt_;
    std::string incoming_, queue_, failed_;
    UniqueFd incoming_fd_, queue_fd_;
    Aliases aliases_;
    std::map<uint64_t, std::unique_ptr<Job>> at_relay_; // by transaction tag
    // After at_relay_: destroyed first, so that no connection still reads
    // a message whose file (and lock) a Job's destruction has let go.
    std::unique_ptr<RelayPool> relay_;
    uint64_t tags_ = 0;
    bool relay_tried_ = false;        // secret resolved / connections set up once per run
    std::string relay_down_;          // why relay recipients are deferred for the rest of the run
    int status_ = 0;                  // exit status of the run
    std::deque<std::string> bounces_; // reports injected during the run, sent before it ends
    int unsynced_ = 0;                // removals from queue/ not yet made durable
    std::set<std::string> seen_;      // messages this run has worked on
    static constexpr int sync_batch = 64;
};

} // namespace postern::send
