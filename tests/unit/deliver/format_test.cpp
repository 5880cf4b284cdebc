// SPDX-License-Identifier: ISC
// mbox format rules (SPEC "Local delivery"; notes/reliability.md 3.3).
#include "deliver/format.h"

#include <doctest/doctest.h>

using namespace postern::deliver;

namespace {
std::string convert(const std::string& in, bool mboxrd, size_t chunk = 0)
{
    LineConverter c(mboxrd);
    std::string out;
    if (chunk == 0) {
        c.add(in, out);
    } else {
        for (size_t i = 0; i < in.size(); i += chunk)
            c.add(std::string_view(in).substr(i, chunk), out);
    }
    c.finish(out);
    return out;
}
} // namespace

TEST_CASE("format: mboxrd quoting table (every ^>*From  line gets one more '>')")
{
    struct Case {
        const char* label;
        const char* line;
        bool quoted;
    };
    const Case cases[] = {
        {"From line", "From me", true},
        {"quoted From", ">From me", true},
        {"twice quoted", ">>From me", true},
        {"no space after From", "From:", false},
        {"lower case", "from me", false},
        {"indented", " From me", false},
        {"empty", "", false},
        {"only From", "From", false},
        {"> then text", ">Fro", false},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label) { CHECK(needs_from_quote(c.line) == c.quoted); }
    }
}

TEST_CASE("format: conversion table")
{
    struct Case {
        const char* label;
        std::string in;
        bool mboxrd;
        std::string want;
    };
    const Case cases[] = {
        {"CRLF becomes LF, blank line after", "a\r\nb\r\n", true, "a\nb\n\n"},
        {"LF input accepted", "a\nb\n", true, "a\nb\n\n"},
        {"partial last line gets a newline", "a\r\nb", true, "a\nb\n\n"},
        {"bare CR stays data", "a\rb\r\n", true, "a\rb\n\n"},
        {"From quoted after a blank line and elsewhere", "S: x\r\n\r\nFrom a\r\nx\r\nFrom b\r\n",
         true, "S: x\n\n>From a\nx\n>From b\n\n"},
        {">From becomes >>From", "\r\n>From a\r\n>>From b\r\n", true, "\n>>From a\n>>>From b\n\n"},
        {"maildir: no quoting, no separator", "\r\nFrom a\r\n", false, "\nFrom a\n"},
        {"maildir: partial line ended", "x", false, "x\n"},
        {"empty message", "", true, "\n"},
    };
    for (const auto& c : cases) {
        SUBCASE(c.label)
        {
            CHECK(convert(c.in, c.mboxrd) == c.want);
            // Chunk borders inside a line, a CRLF or a "From " change nothing.
            for (size_t chunk : {1, 2, 3, 7})
                CHECK(convert(c.in, c.mboxrd, chunk) == c.want);
        }
    }
}

TEST_CASE("format: From_ line")
{
    std::time_t t = 1732240000; // a fixed instant; local time zone varies
    std::string l = from_line("alice@example.com", t);
    CHECK(l.rfind("From alice@example.com ", 0) == 0);
    CHECK(l.back() == '\n');
    // "From " + sender + " " + 24 characters of asctime + "\n"
    CHECK(l.size() == 5 + 17 + 1 + 24 + 1);
    char want[64];
    struct tm tm {};
    ::localtime_r(&t, &tm);
    ::strftime(want, sizeof want, "%a %b %e %H:%M:%S %Y", &tm);
    CHECK(l.substr(23, 24) == want);

    SUBCASE("null sender is MAILER-DAEMON")
    {
        CHECK(from_line("", t).rfind("From MAILER-DAEMON ", 0) == 0);
    }
    SUBCASE("white space becomes hyphens")
    {
        CHECK(from_line("\"a b\tc\"@x", t).rfind("From \"a-b-c\"@x ", 0) == 0);
    }
}

TEST_CASE("format: trace headers")
{
    CHECK(trace_headers("a@x", "bob@box") == "Return-Path: <a@x>\nDelivered-To: bob@box\n");
    CHECK(trace_headers("", "bob") == "Return-Path: <>\nDelivered-To: bob\n");
}
