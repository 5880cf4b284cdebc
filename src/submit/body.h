// SPDX-License-Identifier: ISC
#pragma once
// Reading the message and writing its canonical form (docs/DESIGN.md,
// "Canonical message form").
//
// InputReader splits a byte stream into pieces of lines, never holding
// more than one buffer (64 KiB) of a line: a 50 MB message, or one with no
// line end at all, streams through in constant memory. Bare LF, CRLF and
// a mix are all line ends; a bare CR becomes a space, so "\r.\r\n" can
// never become a line of its own on the wire.
//
// Sources give the message pieces: StdinSource (sendmail mode; a lone "."
// ends the message only when asked, i.e. stdin is a terminal and -i is
// absent) and SmtpDataSource (-bs DATA: "." ends, a leading dot is
// removed).
//
// BodyWriter writes CRLF lines and records what the body holds (8-bit,
// NUL, lines over 998 octets). In "opaque" mode (multipart or an encoding
// we must not touch) it breaks lines over 998 octets with CRLF SPACE
// (Postfix smtp_line_length_limit) and refuses NUL (EX_DATAERR).
// QpEncoder turns canonical CRLF text into quoted-printable (RFC 2045
// 6.7), streaming, for the second pass over an 8-bit body.

#include "common/result.h"

#include <string>
#include <string_view>

namespace postern::submit {

class InputReader {
  public:
    explicit InputReader(int fd) : fd_(fd) {}
    InputReader(const InputReader&) = delete;
    InputReader& operator=(const InputReader&) = delete;

    // Reads the next piece of a line, at most max octets, into out. eol
    // is true when the piece ends its line (the line end is consumed and
    // not included). Returns false at end of input with nothing read.
    // Errors: EX_IOERR for a read error.
    Result<bool> read_piece(std::string& out, size_t max, bool& eol);

  private:
    Status fill();

    int fd_;
    char buf_[1 << 16];
    size_t pos_ = 0;
    size_t len_ = 0;
    bool eof_ = false;
};

class MessageSource {
  public:
    virtual ~MessageSource() = default;
    // The next piece of the message; false at its end. Pieces follow
    // InputReader::read_piece(); at most 64 KiB each.
    virtual Result<bool> next(std::string& piece, bool& eol) = 0;
};

class StdinSource : public MessageSource {
  public:
    StdinSource(InputReader& in, bool dot_ends) : in_(in), dot_ends_(dot_ends) {}
    Result<bool> next(std::string& piece, bool& eol) override;

  private:
    InputReader& in_;
    bool dot_ends_;
    bool line_start_ = true;
    bool done_ = false;
};

class SmtpDataSource : public MessageSource {
  public:
    explicit SmtpDataSource(InputReader& in) : in_(in) {}
    // Errors: EX_IOERR when input ends before the "." line.
    Result<bool> next(std::string& piece, bool& eol) override;
    // Reads and discards the rest of the data up to the "." line.
    Status drain();
    bool done() const { return done_; }

  private:
    InputReader& in_;
    bool line_start_ = true;
    bool done_ = false;
};

// Where canonical bytes go (the drop file, or a string in tests).
class Sink {
  public:
    virtual ~Sink() = default;
    virtual Status write(std::string_view data) = 0;
};

struct BodyStats {
    bool eight_bit = false;
    bool nul = false;
    bool long_line = false;
};

class BodyWriter {
  public:
    BodyWriter(Sink& out, bool opaque) : out_(out), opaque_(opaque) {}
    // One piece of a line; eol ends the line (CRLF is written).
    Status put(std::string_view piece, bool eol);
    // Ends an unterminated last line with CRLF.
    Status finish();
    const BodyStats& stats() const { return stats_; }

  private:
    Sink& out_;
    bool opaque_;
    size_t col_ = 0;
    BodyStats stats_;
};

class QpEncoder {
  public:
    explicit QpEncoder(Sink& out) : out_(out) {}
    // Canonical text (CRLF line ends), in pieces of any size.
    Status feed(std::string_view data);
    Status finish();

  private:
    void emit(std::string_view token);

    Sink& out_;
    std::string buf_;
    size_t col_ = 0;
    int pending_ws_ = -1; // white space that may end a line
    bool skip_lf_ = false;
};

} // namespace postern::submit
