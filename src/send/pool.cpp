// SPDX-License-Identifier: ISC
#include "send/pool.h"

#include "common/log.h"

#include <algorithm>
#include <string.h>
#include <system_error>

namespace postern::send {

struct RelayPool::Conn {
    size_t number = 0; // 1, 2, ... for the log
    std::unique_ptr<RelaySession> session;
    std::thread thread;         // none: runs in the caller's thread (wait())
    std::condition_variable cv; // a job came, or quit
    std::optional<Job> job;     // given, its result not yet collected by wait()
    bool running = false;       // the thread has taken job up
    bool quit = false;
    bool worked = false; // the relay accepted a MAIL FROM on it this run
    bool closed = false; // turned away: not used again this run
};

Result<std::unique_ptr<RelayPool>> RelayPool::open(const Config& cfg, std::string secret,
                                                   bool verbose, int limit)
{
    auto first = RelaySession::open(cfg, secret, verbose);
    if (!first)
        return first.error();
    std::unique_ptr<RelayPool> p(new RelayPool());
    p->cfg_ = cfg;
    p->secret_ = std::move(secret);
    p->verbose_ = verbose;
    p->limit_ = std::max(1, limit);
    p->spare_ = std::move(*first);
    return p;
}

RelayPool::~RelayPool()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto& c : conns_) {
            c->quit = true;
            c->cv.notify_one();
        }
    }
    for (auto& c : conns_)
        if (c->thread.joinable())
            c->thread.join();
    if (!secret_.empty())
        ::explicit_bzero(secret_.data(), secret_.size());
}

void RelayPool::serve(Conn& c)
{
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        c.cv.wait(lock, [&] { return c.quit || (c.job && !c.running); });
        if (c.quit)
            break;
        c.running = true;
        lock.unlock();
        Done d = run(c);
        lock.lock();
        done_.emplace_back(&c, std::move(d));
        done_cv_.notify_one();
    }
    lock.unlock();
    c.session.reset(); // QUIT, from this thread
}

RelayPool::Done RelayPool::run(Conn& c)
{
    const Job& j = *c.job;
    Done d;
    d.tag = j.tag;
    try {
        d.result = c.session->send(j.t);
    } catch (...) {
        d.result.outcome = decide(Exchange(), j.t.rcpts.size());
    }
    return d;
}

int RelayPool::open_count() const
{
    return static_cast<int>(
        std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return !c->closed; }));
}

bool RelayPool::open_conn(std::unique_lock<std::mutex>& lock)
{
    std::unique_ptr<RelaySession> session = std::move(spare_);
    if (!session) {
        auto s = RelaySession::open(cfg_, secret_, verbose_);
        if (!s) {
            limit_ = std::max(1, open_count());
            return false;
        }
        session = std::move(*s);
    }
    session->start_at(host_);
    auto c = std::make_unique<Conn>();
    c->number = conns_.size() + 1;
    c->session = std::move(session);
    Conn* raw = c.get();
    conns_.push_back(std::move(c));
    try {
        raw->thread = std::thread([this, raw] { serve(*raw); });
    } catch (const std::system_error& e) {
        // The connection runs in wait() instead; no more of them.
        lock.unlock();
        log_warning(std::string("relay connection thread: ") + e.what() +
                    "; this run uses the connections it has");
        lock.lock();
        limit_ = std::max(1, open_count());
    }
    return true;
}

void RelayPool::dispatch(std::unique_lock<std::mutex>& lock)
{
    while (!stopped_ && !waiting_.empty()) {
        Conn* free = nullptr;
        int open = 0;
        for (auto& c : conns_) {
            if (c->closed)
                continue;
            ++open;
            if (!free && !c->job)
                free = c.get();
        }
        if (!free) {
            // More connections only once the relay has taken mail on one.
            if (open >= limit_ || (open > 0 && !worked_) || !open_conn(lock))
                return;
            continue;
        }
        free->job = std::move(waiting_.front());
        waiting_.pop_front();
        free->cv.notify_one();
    }
}

void RelayPool::start(Transaction t, uint64_t tag)
{
    std::unique_lock<std::mutex> lock(mu_);
    waiting_.push_back(Job{std::move(t), tag});
    ++started_;
    dispatch(lock);
}

bool RelayPool::full() const
{
    // One at a time until the relay has taken mail: a relay that refuses
    // the set-up sees one attempt, as with one connection.
    std::lock_guard<std::mutex> lock(mu_);
    return started_ >= (worked_ ? static_cast<size_t>(limit_) : 1u);
}

std::vector<uint64_t> RelayPool::withdraw()
{
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    std::vector<uint64_t> tags;
    for (const Job& j : waiting_)
        tags.push_back(j.tag);
    started_ -= waiting_.size();
    waiting_.clear();
    // Given to a connection whose thread has not taken it up: not begun.
    for (auto& c : conns_) {
        if (c->job && !c->running) {
            tags.push_back(c->job->tag);
            c->job.reset();
            --started_;
        }
    }
    return tags;
}

bool RelayPool::idle() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return started_ == 0;
}

RelayPool::Done RelayPool::wait()
{
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        dispatch(lock);
        // A connection without a thread runs its transaction here.
        for (auto& c : conns_) {
            if (c->thread.joinable() || !c->job || c->running)
                continue;
            c->running = true;
            lock.unlock();
            Done d = run(*c);
            lock.lock();
            done_.emplace_back(c.get(), std::move(d));
            break;
        }
        if (done_.empty() && !waiting_.empty() &&
            std::none_of(conns_.begin(), conns_.end(), [](const auto& c) { return c->job; })) {
            // No connection can take it (none could be opened, or the run
            // has stopped using the relay): it fails as a connection
            // failure would.
            Done d;
            d.tag = waiting_.front().tag;
            d.result.outcome = decide(Exchange(), waiting_.front().t.rcpts.size());
            d.result.outcome.relay_problem = true;
            d.result.outcome.error = stopped_ ? "the relay failed earlier in this run"
                                              : "libcurl: cannot allocate a handle";
            d.result.relay = "none";
            waiting_.pop_front();
            --started_;
            return d;
        }
        done_cv_.wait(lock, [&] { return !done_.empty(); });
        // Not a structured binding: clang 14 (the fuzz build) cannot
        // capture one in the lambdas below.
        Conn* c = done_.front().first;
        Done d = std::move(done_.front().second);
        done_.pop_front();
        Job job = std::move(*c->job);
        c->job.reset();
        c->running = false;
        const TransactionResult& r = d.result;
        bool other_works = std::any_of(conns_.begin(), conns_.end(), [&](const auto& o) {
            return o.get() != c && !o->closed && o->worked;
        });
        // After a relay-level failure a turned-away transaction goes back
        // to the runner, which defers it: nothing more goes out.
        if (r.turned_away && !c->closed && other_works && !stopped_) {
            // The relay takes no more connections than it has: use those.
            c->closed = true;
            c->quit = true;
            c->cv.notify_one();
            limit_ = open_count();
            std::string why = !r.outcome.error.empty() ? r.outcome.error : "turned away";
            waiting_.push_front(std::move(job));
            lock.unlock();
            log_warning("relay " + r.relay + " refused connection " + std::to_string(c->number) +
                        " (" + why + "); this run goes on over " + std::to_string(limit_) +
                        (limit_ == 1 ? " connection" : " connections"));
            lock.lock();
            continue;
        }
        if (r.mail_accepted) {
            c->worked = true;
            worked_ = true;
            host_ = r.host;
        }
        // A relay-level failure: no waiting transaction goes out before
        // the runner has taken them back (withdraw()).
        if (r.outcome.relay_problem)
            stopped_ = true;
        --started_;
        dispatch(lock); // a waiting transaction takes the connection just freed
        return d;
    }
}

} // namespace postern::send
