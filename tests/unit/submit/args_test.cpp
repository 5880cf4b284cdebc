// SPDX-License-Identifier: ISC
// sendmail command line parsing: the argv real callers pass (SPEC
// "Submission", "Known callers").
#include "submit/options.h"

#include <doctest/doctest.h>

#include <sysexits.h>

using namespace postern::submit;

namespace {

SubmitOptions parse_ok(std::vector<std::string> argv)
{
    auto r = parse_args(argv);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().text));
    return *r;
}

} // namespace

TEST_CASE("argv of known callers")
{
    struct Case {
        const char* label;
        std::vector<std::string> argv;
        bool t, i;
        std::string sender;
        bool have_sender;
        std::string fullname;
        std::string body;
        std::vector<std::string> rcpts;
    };
    const Case cases[] = {
        {"Debian cron: sendmail -FCronDaemon -i -B8BITMIME -oem root",
         {"/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"},
         false,
         true,
         "",
         false,
         "CronDaemon",
         "8bitmime",
         {"root"}},
        {"bsd-mailx: sendmail -i -- root",
         {"sendmail", "-i", "--", "root"},
         false,
         true,
         "",
         false,
         "",
         "",
         {"root"}},
        {"mdadm / PHP: sendmail -t -i",
         {"sendmail", "-t", "-i"},
         true,
         true,
         "",
         false,
         "",
         "",
         {}},
        {"busybox crond: sendmail -ti (combined flags)",
         {"sendmail", "-ti"},
         true,
         true,
         "",
         false,
         "",
         "",
         {}},
        {"git send-email: -i -f sender rcpt...",
         {"sendmail", "-i", "-f", "me@x.org", "a@y.org", "b@z.org"},
         false,
         true,
         "me@x.org",
         true,
         "",
         "",
         {"a@y.org", "b@z.org"}},
        {"-r is -f, attached form",
         {"sendmail", "-rme@x.org", "u"},
         false,
         false,
         "me@x.org",
         true,
         "",
         "",
         {"u"}},
        {"-f <> is the null sender",
         {"sendmail", "-f", "<>", "u"},
         false,
         false,
         "<>",
         true,
         "",
         "",
         {"u"}},
        {"-B 8BITMIME as two words, -oi",
         {"sendmail", "-B", "8BITMIME", "-oi", "u"},
         false,
         true,
         "",
         false,
         "",
         "8bitmime",
         {"u"}},
        {"-X file swallows its argument",
         {"sendmail", "-X", "/tmp/log", "u"},
         false,
         false,
         "",
         false,
         "",
         "",
         {"u"}},
        {"options end at the first non-option word",
         {"sendmail", "u", "-t"},
         false,
         false,
         "",
         false,
         "",
         "",
         {"u", "-t"}},
        {"-h 5 -L tag -O x=y are accepted",
         {"sendmail", "-h", "5", "-L", "tag", "-Ox=y", "u"},
         false,
         false,
         "",
         false,
         "",
         "",
         {"u"}},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            auto o = parse_ok(c.argv);
            CHECK(o.mode == Mode::Send);
            CHECK(o.extract_recipients == c.t);
            CHECK(o.ignore_dots == c.i);
            CHECK(o.have_sender == c.have_sender);
            CHECK(o.sender == c.sender);
            CHECK(o.fullname == c.fullname);
            CHECK(o.body == c.body);
            CHECK(o.recipients == c.rcpts);
        }
    }
}

TEST_CASE("modes from argv[0] and -b")
{
    struct Case {
        const char* label;
        std::vector<std::string> argv;
        Mode mode;
    };
    const Case cases[] = {
        {"as postern it behaves as sendmail", {"/usr/sbin/postern", "root"}, Mode::Send},
        {"mailq is -bp", {"/usr/bin/mailq"}, Mode::Queue},
        {"newaliases is -bi", {"newaliases"}, Mode::Aliases},
        {"-bp", {"sendmail", "-bp"}, Mode::Queue},
        {"-bs", {"sendmail", "-bs"}, Mode::Smtp},
        {"-bi", {"sendmail", "-bi"}, Mode::Aliases},
        {"-bv", {"sendmail", "-bv", "root"}, Mode::Verify},
        {"-bm is the default", {"sendmail", "-bm", "root"}, Mode::Send},
        {"-q runs the queue", {"sendmail", "-q"}, Mode::Flush},
        {"-q1h runs the queue", {"sendmail", "-q1h"}, Mode::Flush},
        {"--version (postern only)", {"postern", "--version"}, Mode::Version},
        {"--check (postern only)", {"postern", "--check", "--send", "a@b.org"}, Mode::Check},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label) { CHECK(parse_ok(c.argv).mode == c.mode); }
    }
    CHECK(parse_ok({"postern", "--check", "--send", "a@b.org"}).check_send == "a@b.org");
}

TEST_CASE("-od and -o options")
{
    CHECK(parse_ok({"sendmail", "-odq", "u"}).delivery == Delivery::Queue);
    CHECK(parse_ok({"sendmail", "-odi", "u"}).delivery == Delivery::Interactive);
    CHECK(parse_ok({"sendmail", "-odb", "u"}).delivery == Delivery::Background);
    CHECK(parse_ok({"sendmail", "u"}).delivery == Delivery::Background);
    CHECK(parse_ok({"sendmail", "-o", "i", "u"}).ignore_dots);
    SUBCASE("unknown -o options are ignored (logged at debug)")
    {
        auto o = parse_ok({"sendmail", "-oem", "-oQ/tmp", "u"});
        CHECK(o.ignored_o == std::vector<std::string>{"em", "Q/tmp"});
    }
    SUBCASE("-N -R -V -C -v")
    {
        auto o = parse_ok({"sendmail", "-N", "success,failure", "-R", "hdrs", "-V", "id1", "-C",
                           "/etc/x.conf", "-v", "u"});
        CHECK(o.notify == "success,failure");
        CHECK(o.ret == "hdrs");
        CHECK(o.envid == "id1");
        CHECK(o.config_path == "/etc/x.conf");
        CHECK(o.verbose);
    }
}

TEST_CASE("usage errors exit 64")
{
    struct Case {
        const char* label;
        std::vector<std::string> argv;
        const char* text;
    };
    const Case cases[] = {
        {"other unknown flags are a usage error", {"sendmail", "-z", "u"}, "unknown option -z"},
        {"missing argument", {"sendmail", "-f"}, "requires an argument"},
        {"bad -B", {"sendmail", "-B", "BINARY", "u"}, "invalid -B"},
        {"bad -N", {"sendmail", "-N", "sometimes", "u"}, "invalid -N"},
        {"bad -R", {"sendmail", "-R", "all", "u"}, "invalid -R"},
        {"-bd is not supported", {"sendmail", "-bd"}, "unsupported mode"},
        {"long options only as postern", {"sendmail", "--version"}, "unknown option --version"},
        {"unknown long option", {"postern", "--frobnicate"}, "unknown option --frobnicate"},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            auto r = parse_args(c.argv);
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == EX_USAGE);
            CHECK(r.error().text.find(c.text) != std::string::npos);
            CHECK(r.error().text.find("usage:") != std::string::npos);
        }
    }
}
