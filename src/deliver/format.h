// SPDX-License-Identifier: ISC
#pragma once
// How a message is written into a mailbox (mbox(5) "mboxrd", qmail's and
// dma's rules; notes/reliability.md 3.3).
//
// Every mailbox format gets LF line ends (the spool's CRLF loses its CR; a
// bare CR stays data) and the trace fields Return-Path and Delivered-To on
// top. An mbox message also starts with a From_ line, "From SENDER DATE"
// (SENDER one word, MAILER-DAEMON for the null sender, DATE 24 characters
// of asctime), quotes every line matching ^>*From  with one more '>' (not
// only after a blank line, so readers that split on any From_ line see no
// phantom message), and ends with a newline plus one blank line.
// Nothing here fails.

#include <ctime>
#include <string>
#include <string_view>

namespace postern::deliver {

// "From alice@example.com Thu Nov 21 10:00:00 2024\n" in local time.
std::string from_line(std::string_view sender, std::time_t when);

// "Return-Path: <sender>\nDelivered-To: rcpt\n".
// Without Return-Path when with_return_path is false (the message has one).
std::string trace_headers(std::string_view sender, std::string_view delivered_to,
                          bool with_return_path = true);

// True for lines (without their newline) that mboxrd quotes: ^>*From .
bool needs_from_quote(std::string_view line);

// Turns the message, fed in arbitrary chunks, into mailbox lines.
class LineConverter {
  public:
    explicit LineConverter(bool mboxrd) : mboxrd_(mboxrd) {}
    // Appends the converted form of data to out; a line split across two
    // calls is held back until its newline (or finish()) arrives.
    void add(std::string_view data, std::string& out);
    // Flushes a last partial line and ends the message: a newline if the
    // last line had none, plus the blank separator line for mbox.
    void finish(std::string& out);

  private:
    void emit(std::string_view line, bool newline, std::string& out);

    bool mboxrd_;
    std::string partial_;
};

} // namespace postern::deliver
