// SPDX-License-Identifier: ISC
// postern --status: counts, Nagios verdicts and output (SPEC "The spool":
// "a machine-readable status (queue size, oldest age, failed count)").
#include "submit/status.h"

#include <doctest/doctest.h>

using namespace postern;
using namespace postern::submit;

namespace {

QueueEntry entry(const char* area, time_t time, int attempts = 0)
{
    QueueEntry q;
    q.area = area;
    q.env.time = time;
    q.env.attempts = attempts;
    return q;
}

} // namespace

TEST_CASE("summarize counts areas, deferred and the oldest age")
{
    const time_t now = 1'000'000;
    std::vector<QueueEntry> e = {
        entry("incoming", now - 10),
        entry("queue", now - 7200, 2), // deferred: attempted, waiting
        entry("queue", now - 60, 0),   // picked up, not attempted yet
        entry("failed", now - 999999), // failed: not part of the age
        entry("queue", 0, 1),          // unreadable envelope: no time
    };
    QueueStatus st = summarize(e, now);
    CHECK(st.messages == 4);
    CHECK(st.incoming == 1);
    CHECK(st.queued == 3);
    CHECK(st.failed == 1);
    CHECK(st.deferred == 2);
    CHECK(st.oldest == 7200);

    SUBCASE("an empty queue has no oldest age")
    {
        QueueStatus empty = summarize({}, now);
        CHECK(empty.messages == 0);
        CHECK(empty.oldest == -1);
    }
    SUBCASE("a time in the future counts as age 0")
    {
        QueueStatus f = summarize({entry("incoming", now + 50)}, now);
        CHECK(f.oldest == 0);
    }
}

TEST_CASE("judge: Nagios verdicts")
{
    struct Case {
        const char* label;
        long oldest, failed, warn, crit;
        Health want;
    };
    const Case cases[] = {
        {"no thresholds, nothing failed: OK", 999999, 0, -1, -1, Health::Ok},
        {"below warn: OK", 59, 0, 60, 120, Health::Ok},
        {"oldest == warn: WARNING", 60, 0, 60, 120, Health::Warning},
        {"oldest == crit: CRITICAL", 120, 0, 60, 120, Health::Critical},
        {"crit only", 500, 0, -1, 120, Health::Critical},
        {"a failed message is CRITICAL whatever the age", 1, 1, 60, 120, Health::Critical},
        {"empty queue never warns on age", -1, 0, 0, 0, Health::Ok},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            QueueStatus st;
            st.oldest = c.oldest;
            st.failed = c.failed;
            st.messages = c.oldest >= 0 ? 1 : 0;
            Verdict v = judge(st, Thresholds{c.warn, c.crit});
            CHECK(v.health == c.want);
            CHECK(v.reasons.empty() == (c.want == Health::Ok));
        }
    }
}

TEST_CASE("the one-line report and the JSON object")
{
    QueueStatus st;
    st.messages = 3;
    st.queued = 2;
    st.incoming = 1;
    st.oldest = 7200;
    st.failed = 1;
    st.deferred = 2;
    Thresholds t{3600, 86400};
    Verdict v = judge(st, t);
    REQUIRE(v.health == Health::Critical);
    CHECK(format_status(st, v, t) ==
          "postern queue CRITICAL: 3 messages, oldest 2h, 1 failed, 2 deferred (1 failed; oldest "
          "2h >= 1h) | messages=3 oldest=7200s;3600;86400;0 failed=1;;0;0 deferred=2\n");
    CHECK(format_status_json(st, v, t) ==
          "{\"status\":\"CRITICAL\",\"exit\":2,\"messages\":3,\"incoming\":1,\"queued\":2,"
          "\"oldest_seconds\":7200,\"failed\":1,\"deferred\":2,\"waiting_for_runner\":0,"
          "\"last_run_age_seconds\":null,\"warn_seconds\":3600,"
          "\"crit_seconds\":86400,\"reasons\":[\"1 failed\",\"oldest 2h >= 1h\"]}\n");

    QueueStatus empty;
    Verdict ok = judge(empty, Thresholds{});
    CHECK(format_status(empty, ok, Thresholds{}) ==
          "postern queue OK: 0 messages, 0 failed, 0 deferred | messages=0 oldest=0s;;;0 "
          "failed=0;;0;0 deferred=0\n");
}

TEST_CASE("UNKNOWN names the reason, JSON-escaped")
{
    CHECK(format_unknown("cannot read /x: permission denied", false) ==
          "postern queue UNKNOWN: cannot read /x: permission denied\n");
    CHECK(format_unknown("a \"b\"\\\n", true) ==
          "{\"status\":\"UNKNOWN\",\"exit\":3,\"error\":\"a \\\"b\\\"\\\\\\u000a\"}\n");
}

TEST_CASE("a drop file no runner has seen for a few minutes is WARNING, with the fix")
{
    const time_t now = 1'000'000;
    struct Case {
        const char* label;
        const char* area;
        time_t submitted, last_run;
        bool waits;
    };
    const Case cases[] = {
        {"no run since the submission, older than the grace: waits", "incoming", now - 600,
         now - 3600, true},
        {"never a run: waits", "incoming", now - 600, 0, true},
        {"a run in the submission's second may have missed it", "incoming", now - 600, now - 600,
         true},
        {"a run since: the runner saw it", "incoming", now - 600, now - 599, false},
        {"younger than the grace: not yet", "incoming", now - pickup_grace, 0, false},
        {"picked up (queue/) never waits", "queue", now - 600, 0, false},
        {"no readable time: not judged", "incoming", 0, 0, false},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            CHECK(waits_for_runner(entry(c.area, c.submitted), c.last_run, now) == c.waits);
            QueueStatus st = summarize({entry(c.area, c.submitted)}, now, c.last_run);
            CHECK(st.waiting_for_runner == (c.waits ? 1 : 0));
            Verdict v = judge(st, Thresholds{});
            CHECK(v.health == (c.waits ? Health::Warning : Health::Ok));
            if (c.waits) {
                REQUIRE(v.reasons.size() == 1);
                CHECK(v.reasons[0].find("1 waiting for pickup: no queue runner has ") == 0);
                CHECK(v.reasons[0].find(": enable postern-send.path, or the cron line in "
                                        "etc/postern.cron") != std::string::npos);
            }
        }
    }
    SUBCASE("without a stamp (last_run -1) nothing is judged")
    {
        CHECK(summarize({entry("incoming", now - 9999)}, now).waiting_for_runner == 0);
    }
    SUBCASE("the text names the last run, or says there was none")
    {
        CHECK(no_runner_text(0) == "no queue runner has ever run: enable postern-send.path, or "
                                   "the cron line in etc/postern.cron");
        CHECK(no_runner_text(now).find("no queue runner has run since 19") == 0);
    }
    SUBCASE("the last run's age")
    {
        QueueStatus st = summarize({}, now, now - 42);
        CHECK(st.last_run_age == 42);
        CHECK(summarize({}, now, 0).last_run_age == -1);
    }
}

TEST_CASE("the Prometheus exposition: HELP and TYPE before each sample")
{
    QueueStatus st;
    st.messages = 3;
    st.incoming = 1;
    st.deferred = 2;
    st.failed = 1;
    st.oldest = 7200;
    st.waiting_for_runner = 1;
    st.last_run = 1'000'000;
    st.last_run_age = 700;
    Verdict v = judge(st, Thresholds{});
    std::string p = format_status_prometheus(st, v);
    CHECK(p.find("# HELP postern_status ") == 0);
    CHECK(p.find("# TYPE postern_status gauge\npostern_status 2\n") != std::string::npos);
    for (const char* line :
         {"\npostern_queue_messages 3\n", "\npostern_queue_incoming_messages 1\n",
          "\npostern_queue_deferred_messages 2\n", "\npostern_queue_failed_messages 1\n",
          "\npostern_queue_oldest_message_age_seconds 7200\n",
          "\npostern_queue_waiting_for_runner_messages 1\n",
          "\npostern_runner_last_run_timestamp_seconds 1000000\n",
          "\npostern_runner_last_run_age_seconds 700\n"})
        CHECK_MESSAGE(p.find(line) != std::string::npos, line);
    CHECK(p.back() == '\n');

    SUBCASE("no run yet: the run metrics are left out, the empty queue's age is 0")
    {
        QueueStatus empty;
        std::string e = format_status_prometheus(empty, judge(empty, Thresholds{}));
        CHECK(e.find("postern_runner_last_run") == std::string::npos);
        CHECK(e.find("\npostern_queue_oldest_message_age_seconds 0\n") != std::string::npos);
        CHECK(e.find("\npostern_status 0\n") != std::string::npos);
    }
    SUBCASE("UNKNOWN: the reason in a comment, status 3")
    {
        CHECK(format_unknown_prometheus("cannot read\nthe queue") ==
              "# postern --status: cannot read the queue\n# HELP postern_status Nagios verdict "
              "of postern --status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n# TYPE "
              "postern_status gauge\npostern_status 3\n");
    }
}
