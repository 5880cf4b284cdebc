// SPDX-License-Identifier: ISC
#pragma once
// The relay connections of one queue run: up to [relay] connections
// RelaySessions, each driven by a thread of its own, fed by the runner.
//
// Why threads, not several transfers in one multi handle: libcurl 7.88
// waits for the reply to the final dot inside smtp_done(), blocking
// (relay.h), so the transfers of one multi handle would take turns exactly
// where a relay spends its time (it makes the message durable before it
// answers). Each connection keeps its own easy and multi handle, so
// relay.cpp and its timeout rules are unchanged.
//
// Threads and the spool: only the runner's thread touches the spool, the
// envelopes and the log. A connection thread gets a Transaction (strings,
// and a descriptor it only preads) and hands back a TransactionResult.
//
// Opening: one connection first. Another opens only when every open one is
// busy, the limit allows it, and the relay has accepted a MAIL FROM on one
// of them this run: the account and the set-up work, so a wrong password
// is never tried on several connections at once.
//
// Falling back: a connection the relay turns away (no connection, no
// greeting, or a 4xx greeting such as Postfix's "421 4.7.0 Error: too many
// connections from ...") while another connection of the run has worked is
// closed for the rest of the run, the limit drops to the connections that
// are left, and its transaction goes to one of them: the runner never sees
// it. Each fall-back closes a connection, so a run has at most limit - 1.
//
// Failure policy: nothing here fails; a thread that cannot be started
// lowers the limit, and with no thread at all the transaction runs in the
// caller's thread.

#include "common/config.h"
#include "send/relay.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace postern::send {

class RelayPool {
  public:
    struct Done {
        uint64_t tag = 0;
        TransactionResult result;
    };

    // limit: [relay] connections (>= 1). Errors: those of RelaySession::open.
    static Result<std::unique_ptr<RelayPool>> open(const Config& cfg, std::string secret,
                                                   bool verbose, int limit);
    // Lets every connection end its session (QUIT) and waits for them.
    ~RelayPool();
    RelayPool(const RelayPool&) = delete;
    RelayPool& operator=(const RelayPool&) = delete;

    // Queues t; it starts as soon as a connection is free. tag comes back
    // with its result.
    void start(Transaction t, uint64_t tag);
    // True when as many transactions are started as connections may be
    // used (one until the relay has accepted a MAIL FROM): the runner
    // takes no new message until one ends.
    bool full() const;
    // True when no transaction is started.
    bool idle() const;
    // Waits for a started transaction to end (!idle()).
    Done wait();
    // Takes back the transactions no connection has begun and starts no
    // more (a relay-level failure); returns their tags. Those in progress
    // go on. wait() stops handing out transactions by itself as soon as it
    // collects a relay-level failure, so that none goes out before this.
    std::vector<uint64_t> withdraw();

  private:
    struct Job {
        Transaction t;
        uint64_t tag = 0;
    };
    struct Conn;

    RelayPool() = default;
    // With mu_ held: gives waiting transactions to free connections,
    // opening connections as the rules above allow.
    void dispatch(std::unique_lock<std::mutex>& lock);
    bool open_conn(std::unique_lock<std::mutex>& lock);
    int open_count() const; // connections not closed by a fall-back
    void serve(Conn& c);
    // Runs the connection's job (mu_ not held; the job stays put while
    // running is set).
    static Done run(Conn& c);

    Config cfg_;
    std::string secret_;
    bool verbose_ = false;
    int limit_ = 1;
    size_t host_ = 0;                     // where the last transaction that worked went
    size_t started_ = 0;                  // start()ed, not yet returned by wait()
    bool worked_ = false;                 // the relay accepted a MAIL FROM this run
    bool stopped_ = false;                // a relay-level failure: nothing more goes out
    std::unique_ptr<RelaySession> spare_; // the first session, opened by open()

    mutable std::mutex mu_;
    std::condition_variable done_cv_;
    std::deque<Job> waiting_;
    std::deque<std::pair<Conn*, Done>> done_;
    std::vector<std::unique_ptr<Conn>> conns_;
};

} // namespace postern::send
