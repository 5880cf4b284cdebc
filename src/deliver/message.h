// SPDX-License-Identifier: ISC
#pragma once
// The message to deliver, held still while it is appended.
//
// mail.local's rule: stdin is read completely before any mailbox is
// touched, so a reading error can never leave half a message behind. When
// stdin is a regular file (the queue runner passes its spool file,
// positioned at the message) it is read in place from its current offset
// to its end; anything else (a pipe, a terminal) is first copied into an
// unlinked temporary file in /tmp (O_TMPFILE, else mkstemp + unlink).
// Errors: EX_TEMPFAIL for a temporary file that cannot be written,
// EX_IOERR for a read error on stdin.

#include "common/result.h"
#include "common/unique_fd.h"

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>

namespace postern::deliver {

class Message {
  public:
    // Takes the message from fd (normally 0); see above.
    static Result<Message> from_fd(int fd);

    // Calls fn with consecutive chunks of the message; stops at the first
    // error fn returns. Errors: EX_IOERR (read), or fn's error.
    Status each_chunk(const std::function<Status(std::string_view)>& fn) const;

    off_t size() const { return size_; }
    int fd() const { return fd_.get(); }

    // Another MTA (Postfix local(8) running a mailbox_command, exim's pipe
    // transport) hands the message over with its own "From sender date"
    // line first, as mail.local and procmail expect: that line is the
    // envelope, not message text. from_fd() takes it off; this is its
    // sender ("" for MAILER-DAEMON or <>), and from_line() says there was one.
    const std::string& envelope_sender() const { return envelope_sender_; }
    bool from_line() const { return from_line_; }
    // True when the message's first header field is a Return-Path (the
    // MTA that handed it over wrote one): no second one is added.
    bool has_return_path() const { return has_return_path_; }

  private:
    void take_envelope_line();

    UniqueFd fd_;
    off_t start_ = 0;
    off_t size_ = 0;
    std::string envelope_sender_;
    bool from_line_ = false;
    bool has_return_path_ = false;
};

} // namespace postern::deliver
